module example.com/portwait

go 1.21
