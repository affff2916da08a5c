module example.com/testmainafter

go 1.21
