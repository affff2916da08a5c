module example.com/pipeholder

go 1.21
