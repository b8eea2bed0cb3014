package main

import (
	"fmt"
	"math/rand/v2"
)

func randomFloats(n int) []float32 {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]float32, n)
	for i := range out {
		out[i] = rng.Float32()
	}
	return out
}

func main() { p, err := writeMLP(); fmt.Println(p, err) }
