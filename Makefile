# Common tasks. `make test` is the command CI runs.
GO ?= go

.PHONY: run test generate build bench load docker

run: ## run the service on the embedded SQLite (./data)
	$(GO) run ./cmd/certapi

test: ## every test, on SQLite and on MariaDB/MySQL (CERTAPI_TEST_MYSQL_DSN)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

generate: ## regenerate api/ from openapi.yaml
	$(GO) generate ./api/...

build: ## a static binary in bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/certapi ./cmd/certapi

bench: ## the benchmarks of the HTTP stack
	$(GO) test -run '^$$' -bench . -benchmem ./internal/httpapi/

load: ## a wrk load test of the built binary on loopback (scripts/load.sh)
	scripts/load.sh

docker: ## the container image
	docker build -t certapi .
