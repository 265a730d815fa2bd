module example.com/clean // a comment

go 1.22
