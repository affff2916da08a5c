package bad

import "testing"

func TestBroken(t *testing.T) { _ = Broken() }
