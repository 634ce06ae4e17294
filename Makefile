# Convenience targets; the commands themselves are plain cargo and scripts.
.PHONY: dist dist-check test
# Release archives for x86_64 and aarch64 (glibc 2.28, OpenSSL linked in) under dist/.
dist:
	scripts/dist.sh
# The same build, then tests/dist.rs on it (readelf checks, the real Falco).
dist-check:
	.ci/dist-check
test:
	cargo test
