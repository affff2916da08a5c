module example.com/bigoutput

go 1.21
