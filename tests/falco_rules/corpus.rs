//! The detection corpus of `rules/tests/corpus/`: one day of an MKS cluster's audit log,
//! attack events labelled with their technique, benign events with what they are.
//!
//! `RULES_CORPUS_DIR=<dir>` (relative to the repository, or absolute) loads another corpus of
//! the same format instead, e.g. the held-out corpus of `rules/tests/holdout/`.

use super::repo;
use serde_json::Value as Json;
use std::path::PathBuf;

pub const DIR: &str = "rules/tests/corpus";
/// Names another corpus directory to load instead of [`DIR`].
pub const ENV: &str = "RULES_CORPUS_DIR";

/// The corpus directory named by `RULES_CORPUS_DIR`, if set (and not empty).
pub fn override_dir() -> Option<PathBuf> {
    std::env::var_os(ENV)
        .filter(|d| !d.is_empty())
        .map(|d| repo().join(PathBuf::from(d)))
}

/// The directory the corpus is loaded from: `RULES_CORPUS_DIR`, else [`DIR`].
pub fn dir() -> PathBuf {
    override_dir().unwrap_or_else(|| repo().join(DIR))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// An attack event of the given technique.
    Attack(String),
    /// A benign event that looks like an attack, done by the given actor.
    LookAlike(String),
    /// The rest of the day.
    Ordinary,
}

#[derive(Debug, Clone)]
pub struct CorpusEvent {
    pub label: Label,
    pub note: String,
    pub event: Json,
}

impl CorpusEvent {
    pub fn audit_id(&self) -> &str {
        self.event["auditID"].as_str().unwrap_or("")
    }

    pub fn is_attack(&self) -> bool {
        matches!(self.label, Label::Attack(_))
    }
}

fn read(file: &str, label: impl Fn(&Json) -> Label) -> Vec<CorpusEvent> {
    let path = dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: Json =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}:{}: {e}", i + 1));
            CorpusEvent {
                label: label(&v),
                note: v["note"].as_str().unwrap_or("").to_owned(),
                event: v["event"].clone(),
            }
        })
        .collect()
}

/// Every event of the corpus: attacks, look-alikes, then ordinary traffic.
pub fn load() -> Vec<CorpusEvent> {
    let mut out = read("attacks.jsonl", |v| {
        Label::Attack(v["technique"].as_str().expect("technique").to_owned())
    });
    out.extend(read("lookalikes.jsonl", |v| {
        Label::LookAlike(v["actor"].as_str().expect("actor").to_owned())
    }));
    out.extend(read("ordinary.jsonl", |_| Label::Ordinary));
    out
}
