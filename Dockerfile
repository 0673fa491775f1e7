# modelgate container image: the binary the GitLab component runs by default.
#
#   docker build --build-arg VERSION=0.1.0 -t registry.gitlab.com/modelgate/modelgate:0.1.0 .
#
# Contents: three static Go binaries (CGO_ENABLED=0) in /usr/local/bin: the
# scanner modelgate; modelgate-full, the same command line with detector
# plugins and signature verification, which modelgate runs when a scan
# needs them; the MLflow registry gate modelgate-mlflow (which
# `modelgate mlflow ...` runs); CA certificates, and Alpine's busybox /bin/sh, which GitLab's runner needs
# to run a job's script in the image. It runs as the unprivileged user
# modelgate (uid 10001). The entrypoint is modelgate itself, so
# `docker run IMAGE scan /models` works; CI jobs override it with
# entrypoint: [""] (the component does).
ARG GO_VERSION=1.26
ARG ALPINE_VERSION=3.22

FROM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/modelgate/modelgate/internal/climain.Version=v${VERSION}" -o /out/ ./cmd/modelgate ./cmd/modelgate-full ./cmd/modelgate-mlflow

FROM alpine:${ALPINE_VERSION}
RUN apk add --no-cache ca-certificates && adduser -D -u 10001 -g modelgate modelgate
COPY --from=build /out/modelgate /out/modelgate-full /out/modelgate-mlflow /usr/local/bin/
USER 10001:10001
WORKDIR /home/modelgate
ENTRYPOINT ["/usr/local/bin/modelgate"]
CMD ["--help"]
