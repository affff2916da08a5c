module example.com/ownmain

go 1.21
