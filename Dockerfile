# Build: a static binary (pure-Go SQLite, no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/certapi ./cmd/certapi && mkdir -p /out/data

# Run: nothing but the binary, as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/certapi /usr/local/bin/certapi
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV CERTAPI_ADDR=:8080 CERTAPI_DATA_DIR=/data
EXPOSE 8080
VOLUME ["/data"]
USER nonroot:nonroot
# The image has no shell and no curl: the binary asks its own /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/certapi", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/certapi"]
CMD ["serve"]
