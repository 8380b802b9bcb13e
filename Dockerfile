# Multi-stage build: compile in the Rust image, run from a slim Debian with only the binary,
# its migrations (embedded) and the shipped config.toml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY benches ./benches
COPY tests ./tests
COPY config.toml ./
RUN cargo build --release --locked --bin discogs

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app discogs
WORKDIR /app
COPY --from=build /src/target/release/discogs /usr/local/bin/discogs
COPY config.toml /app/config.toml
ENV DISCOGS_DATA_DIR=/data \
    DISCOGS_LISTEN=0.0.0.0:8000
VOLUME /data
EXPOSE 8000
USER discogs
ENTRYPOINT ["discogs"]
CMD ["run", "--ingest", "--serve"]
