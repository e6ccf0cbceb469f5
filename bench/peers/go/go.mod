module tangle/bench/peers/go

go 1.19
