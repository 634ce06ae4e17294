//! The detection corpus of `rules/tests/corpus/`: one day of an MKS cluster's audit log,
//! attack events labelled with their technique, benign events with what they are.

use super::repo;
use serde_json::Value as Json;

pub const DIR: &str = "rules/tests/corpus";

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
    let path = repo().join(DIR).join(file);
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
