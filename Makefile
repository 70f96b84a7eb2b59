# Common tasks. `make test` is the command CI runs.
GO ?= go

.PHONY: run test generate build bench perf faults load docker

# The administrator `make run` creates on a new database, to sign in with at once.
# For a local copy only: a deployment sets its own (README, "Configuration").
RUN_ADMIN_EMAIL ?= admin@example.org
RUN_ADMIN_PASSWORD ?= local-development-only

run: ## run the service on the embedded SQLite (./data), with an administrator to sign in with
	CERTAPI_BOOTSTRAP_ADMIN_EMAIL=$${CERTAPI_BOOTSTRAP_ADMIN_EMAIL:-$(RUN_ADMIN_EMAIL)} \
	CERTAPI_BOOTSTRAP_ADMIN_PASSWORD=$${CERTAPI_BOOTSTRAP_ADMIN_PASSWORD:-$(RUN_ADMIN_PASSWORD)} \
	$(GO) run ./cmd/certapi

# Each fuzz target runs for FUZZTIME after the tests (scripts/fuzz.sh); a new input
# is minimized for at most FUZZMINIMIZETIME, so that the large seeds (deeply nested
# JSON) do not take up the whole run.
FUZZTIME ?= 4s
FUZZMINIMIZETIME ?= 1s

test: ## every test, on SQLite and on MariaDB (CERTAPI_TEST_MYSQL_DSN, or a throwaway server), then a bounded fuzz run
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZMINIMIZETIME=$(FUZZMINIMIZETIME) scripts/test.sh

generate: ## regenerate api/ from openapi.yaml
	$(GO) generate ./api/...

build: ## a static binary in bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o bin/certapi ./cmd/certapi

bench: ## the benchmarks of the HTTP stack
	$(GO) test -run '^$$' -bench . -benchmem ./internal/httpapi/

perf: ## certapi beside the raw floor of its stack, on a bulk-loaded dataset (scripts/perf.sh; DB=mysql for MariaDB)
	scripts/perf.sh

faults: ## fault injection on loopback: MariaDB outage, kill -9 and SIGTERM under a write load (scripts/faults.sh; root and a local MariaDB)
	scripts/faults.sh

load: ## a wrk load test of the built binary on loopback (scripts/load.sh)
	scripts/load.sh

docker: ## the container image
	docker build -t certapi .
