module mycorp/platform

go 1.12
