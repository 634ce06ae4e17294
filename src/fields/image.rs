//! Container image references: the repository part of `registry:5000/ns/img:tag@sha256:...`.

/// The image reference without its digest (from the first `@`) and without its tag (a `:`
/// after the last `/`): `registry:5000/ns/img:1.2@sha256:ab` gives `registry:5000/ns/img`.
///
/// Upstream cuts at the first `:` instead, which keeps only `registry` of a reference whose
/// registry has a port; for every other reference both give the same result.
pub fn repository(image: &[u8]) -> &[u8] {
    let name = match image.iter().position(|&b| b == b'@') {
        Some(at) => &image[..at],
        None => image,
    };
    let last_part = name.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    match name[last_part..].iter().position(|&b| b == b':') {
        Some(colon) => &name[..last_part + colon],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::repository;

    fn repo(image: &str) -> &str {
        std::str::from_utf8(repository(image.as_bytes())).unwrap()
    }

    #[test]
    fn strips_tag_and_digest_and_keeps_registry_ports() {
        assert_eq!(
            repo("registry:5000/ns/img:1.2@sha256:ab"),
            "registry:5000/ns/img"
        );
        assert_eq!(repo("registry:5000/ns/img"), "registry:5000/ns/img");
        assert_eq!(repo("reg:5000/img0@sha256:00"), "reg:5000/img0");
        assert_eq!(repo("[::1]:5000/img:tag"), "[::1]:5000/img");
    }

    #[test]
    fn matches_upstream_for_references_without_a_registry_port() {
        for (image, want) in [
            ("nginx", "nginx"),
            ("nginx:1.25", "nginx"),
            ("falcosecurity/falco:0.38.0", "falcosecurity/falco"),
            (
                "docker.io/library/busybox@sha256:abc",
                "docker.io/library/busybox",
            ),
            ("quay.io/ns/img:v1@sha256:abc", "quay.io/ns/img"),
            ("img@sha256:abc", "img"),
            ("", ""),
            (":tag", ""),
        ] {
            assert_eq!(repo(image), want, "{image}");
            // Upstream: split at ':' then at '@', keep the first part each time.
            let upstream = image.split(':').next().unwrap().split('@').next().unwrap();
            assert_eq!(repo(image), upstream, "{image}");
        }
    }
}
