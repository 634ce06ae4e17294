# Convenience targets; the commands themselves are plain cargo and scripts/dist.sh.
.PHONY: dist test
dist:
	scripts/dist.sh
test:
	cargo test
