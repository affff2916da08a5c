module mycorp/labels

go 1.27
