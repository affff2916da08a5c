module nodot

go 1.21
