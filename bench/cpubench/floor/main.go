// Command floor is the baseline of cpubench: a minimal Go HTTP server that
// reads each request body and answers a fixed OIP response (and fixed
// model metadata), so that kiln bench can load it like kiln-serve: what the
// HTTP exchange alone costs.
//
//	go run ./bench/cpubench/floor --addr 127.0.0.1:9000
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	metadata := []byte(`{"name":"iris","versions":["1"],"platform":"onnxruntime_onnx","inputs":[{"name":"input","datatype":"FP32","shape":[-1,4]}],"outputs":[{"name":"label","datatype":"BYTES","shape":[-1]}]}`)
	answer := []byte(`{"model_name":"iris","model_version":"1","outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["versicolor"]}]}`)
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			w.Write(metadata)
			return
		}
		w.Write(answer)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
