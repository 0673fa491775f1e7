// Command modelgate-mlflow gates an MLflow model registry: a webhook
// receiver that scans every new model version with modelgate's engine, tags
// the verdict and keeps failed versions out of protected aliases and stages,
// plus reconcile, audit, verify, jobs and register-webhook. `modelgate
// mlflow ...` runs it.
package main

import (
	"os"

	"github.com/modelgate/modelgate/internal/mlflowcli"
)

func main() {
	os.Exit(mlflowcli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
