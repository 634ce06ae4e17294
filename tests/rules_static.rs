//! Static checks of the rules in `rules/`, without Falco: the files parse and declare their
//! requirements; every field they use exists in the plugin's field table with a valid
//! argument; every macro and list they reference is defined before it is used; every rule
//! reads well to an on-call engineer and has examples that raise it and examples that do not;
//! the examples and the corpus are MKS audit events; and the evaluator the other tests rely
//! on models Falco's matching (checked against Falco itself by `rules_falco` and
//! `rules_detection` when `FALCO` is set).

mod falco_rules;
mod support;

use falco_rules::condition::{self, Atom, Check, Env, Expr, FieldSource, Rhs};
use falco_rules::eval::Extractor;
use falco_rules::examples::SUITES;
use falco_rules::setups::{self, SETUPS};
use falco_rules::{
    corpus, model, rule_field_refs, FieldTable, Priority, RuleSet, JSON_RULES, OVERLAY, OWN_RULES,
    SANDBOX, STOCK,
};
use std::collections::{BTreeMap, BTreeSet};

/// Each of our rules files, and the files Falco must load before it.
const OUR_FILES: &[(&str, &[&str])] = &[
    (OWN_RULES, &[]),
    (SANDBOX, &[OWN_RULES]),
    (OVERLAY, &[STOCK]),
    (JSON_RULES, &[OWN_RULES]),
];

fn load_with_prerequisites(file: &str) -> RuleSet {
    let (_, before) = OUR_FILES.iter().find(|(f, _)| *f == file).unwrap();
    let mut files = before.to_vec();
    files.push(file);
    RuleSet::load(&files).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Rules a file defines (not those it overrides).
fn defined_rules<'a>(set: &'a RuleSet, file: &str) -> Vec<&'a falco_rules::RuleDef> {
    set.rules.iter().filter(|r| r.file == file).collect()
}

/// Field references of the rules our files define, with where they are.
fn our_field_refs() -> Vec<(String, Option<String>, String, &'static str)> {
    let mut refs = Vec::new();
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        for r in defined_rules(&set, file) {
            for (f, a, at) in rule_field_refs(&set, r).unwrap() {
                refs.push((f, a, at, *file));
            }
        }
    }
    refs
}

#[test]
fn rules_files_declare_engine_and_plugin_requirements_where_falcoctl_reads_them() {
    let ours = env!("CARGO_PKG_VERSION");
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|x| x.parse().unwrap()).collect() };
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        let meta = &set.files[*file];
        assert_eq!(
            meta.engine_version.as_deref(),
            Some("0.50.0"),
            "{file}: Falco 0.41.0 (the first with plugin API 3.11) is engine 0.50.0"
        );
        let req = meta
            .plugins
            .iter()
            .find(|p| p.name == "k8saudit-ovh")
            .unwrap_or_else(|| panic!("{file} must require the k8saudit-ovh plugin"));
        // Falco accepts a plugin of the same major version and at least the required one.
        let (want, have) = (parse(&req.version), parse(ours));
        assert!(
            want[0] == have[0] && want <= have,
            "{file} requires {} but the plugin is {ours}",
            req.version
        );
        let others: Vec<&str> = meta
            .plugins
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| *n != "k8saudit-ovh")
            .collect();
        let json = if [OVERLAY, JSON_RULES].contains(file) {
            vec!["json"]
        } else {
            vec![]
        };
        assert_eq!(others, json, "{file}: the plugins it needs besides ours");
        // falcoctl and the plugins registry tooling scan for these lines at column 0.
        let text = std::fs::read_to_string(falco_rules::repo().join(file)).unwrap();
        assert!(
            text.lines()
                .any(|l| l.starts_with("- required_engine_version:")),
            "{file}"
        );
        assert!(
            text.lines().any(|l| l == "- required_plugin_versions:"),
            "{file}"
        );
    }
}

/// Unquoted operands that look like a list name (snake_case with an underscore) but name
/// no list: Falco would silently compare against the literal name.
fn suspicious_literals(set: &RuleSet, atoms: &[Atom]) -> Vec<String> {
    atoms
        .iter()
        .filter(|a| !a.quoted && !set.lists.contains_key(&a.text))
        .filter(|a| {
            a.text.contains('_')
                && a.text
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(|a| a.text.clone())
        .collect()
}

#[test]
fn our_names_are_prefixed_and_clash_with_nothing() {
    let stock = RuleSet::load(&[STOCK]).unwrap();
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        let meta = &set.files[*file];
        let defined = meta
            .lists
            .iter()
            .chain(&meta.macros)
            .chain(&meta.rules)
            .filter(|n| !meta.overrides.contains(n));
        for name in defined {
            if meta.rules.contains(name) {
                assert!(
                    name.starts_with("MKS "),
                    "{file}: rule {name} is not prefixed MKS"
                );
            } else {
                assert!(
                    name.starts_with("mks_"),
                    "{file}: {name} is not prefixed mks_"
                );
            }
            assert!(
                stock.rule(name).is_none()
                    && !stock.lists.contains_key(name)
                    && !stock.macros.contains_key(name),
                "{file}: {name} redefines a stock name"
            );
            if let Some(other) = seen.insert(name.clone(), file) {
                panic!("{file}: {name} is already defined by {other}");
            }
        }
        // Only the overlay changes names it does not define, and only stock ones; and the
        // json rules widen macros of the MKS rules (with what only the json plugin sees), by
        // appending to them, never replacing them.
        for name in &meta.overrides {
            if *file == JSON_RULES {
                let own = RuleSet::load(&[OWN_RULES]).unwrap();
                assert!(
                    own.macros.contains_key(name) && name.starts_with("mks_"),
                    "{file} changes {name}, which is not a macro of {OWN_RULES}"
                );
                let text = std::fs::read_to_string(falco_rules::repo().join(file)).unwrap();
                let at = text.find(&format!("- macro: {name}\n")).unwrap();
                let end = text[at + 1..]
                    .find("\n- ")
                    .map_or(text.len(), |e| at + 1 + e);
                let entry = &text[at..end];
                assert!(
                    entry.contains("override:\n    condition: append"),
                    "{file} must append to {name}, not replace it"
                );
                continue;
            }
            assert_eq!(*file, OVERLAY, "{file} changes {name}");
            assert!(
                stock.rule(name).is_some() || stock.macros.contains_key(name),
                "the overlay changes {name}, which is not a stock rule or macro"
            );
        }
    }
}

#[test]
fn macros_and_lists_are_defined_before_use_and_all_used() {
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        let meta = &set.files[*file];
        // Falco 0.44 resolves names wherever they are defined, but the files keep every macro
        // and list ahead of its first use, which any Falco since 0.41 loads the same way.
        let mut entries: Vec<(usize, String, String)> = set
            .macros
            .values()
            .filter(|m| m.file == *file)
            .map(|m| (m.index, m.name.clone(), m.condition.clone()))
            .collect();
        entries.extend(
            defined_rules(&set, file)
                .iter()
                .map(|r| (r.index, r.name.clone(), r.condition.clone())),
        );
        for (index, name, cond) in &entries {
            set.expand(cond)
                .unwrap_or_else(|e| panic!("{file}: {name}: {e}"));
            let e = condition::parse(cond).unwrap_or_else(|e| panic!("{name}: {e}"));
            for m in e.macros() {
                let def = &set.macros[&m];
                assert!(
                    def.index < *index,
                    "{file}: {name} uses macro {m}, defined after it"
                );
            }
            for c in e.checks() {
                if let Rhs::List(items) = &c.rhs {
                    for a in items.iter().filter(|a| !a.quoted) {
                        if let Some(l) = set.lists.get(&a.text) {
                            assert!(
                                l.index < *index,
                                "{file}: {name} uses list {}, defined after it",
                                l.name
                            );
                        }
                    }
                    assert_eq!(
                        suspicious_literals(&set, items),
                        Vec::<String>::new(),
                        "{file}: {name}: undefined list?"
                    );
                }
            }
        }
        // A list item naming a list: defined earlier, and one level deep only.
        for l in set.lists.values().filter(|l| l.file == *file) {
            for item in &l.items {
                if let Some(r) = set.lists.get(item) {
                    assert!(
                        r.index < l.index,
                        "list {} includes {item}, defined after it",
                        l.name
                    );
                    assert!(
                        r.items.iter().all(|i| !set.lists.contains_key(i)),
                        "list {} includes {item}, which includes a list",
                        l.name
                    );
                }
            }
            let atoms: Vec<Atom> = l
                .items
                .iter()
                .map(|i| Atom {
                    text: i.clone(),
                    quoted: false,
                })
                .collect();
            assert_eq!(
                suspicious_literals(&set, &atoms),
                Vec::<String>::new(),
                "list {}: undefined list?",
                l.name
            );
        }
        // Falco warns about a list or macro no rule uses.
        let mut used_lists = BTreeSet::new();
        let mut used_macros = BTreeSet::new();
        for r in defined_rules(&set, file) {
            used_lists.extend(set.lists_used(&r.condition).unwrap());
            used_macros.extend(set.expand(&r.condition).unwrap().1);
        }
        for l in meta.lists.iter().filter(|l| !meta.overrides.contains(l)) {
            assert!(
                used_lists.contains(l),
                "{file}: list {l} is used by no rule of it"
            );
        }
        for m in meta.macros.iter().filter(|m| !meta.overrides.contains(m)) {
            assert!(
                used_macros.contains(m),
                "{file}: macro {m} is used by no rule of it"
            );
        }
    }
}

#[test]
fn the_overlay_turns_off_stock_rules_and_the_activity_stream() {
    let set = RuleSet::load(setups::STOCK_OVH.files).unwrap();
    let meta = &set.files[OVERLAY];
    for name in &meta.overrides {
        if let Some(r) = set.rule(name) {
            assert!(
                !r.enabled,
                "the overlay changes {name} without turning it off"
            );
        }
    }
    for r in [
        "Disallowed K8s User",
        "Attach/Exec Pod",
        "port-forward",
        "Create Privileged Pod",
        "Anonymous Request Allowed",
        "Attach to cluster-admin Role",
    ] {
        assert!(!set.rule(r).unwrap().enabled, "{r} is still on");
    }
    assert_eq!(
        set.macros["consider_activity_events"].condition.trim(),
        "(k8s_audit_never_true)"
    );
}

fn check_refs_against(table: &FieldTable, what: &str) -> Vec<String> {
    let mut problems = BTreeSet::new();
    for (field, arg, at, file) in our_field_refs() {
        if field.starts_with("jevt.") && file == JSON_RULES {
            // That file is the one that needs the json plugin.
            continue;
        }
        if !field.starts_with("ka.") {
            problems.insert(format!(
                "{file}: {at}: {field} is not a ka.* field (the file must need only this plugin)"
            ));
            continue;
        }
        if let Some(p) = table.problem(&field, arg.as_deref()) {
            problems.insert(format!("{file}: {at}: {p} ({what})"));
        }
    }
    problems.into_iter().collect()
}

#[test]
fn every_field_the_rules_use_is_in_the_upstream_field_table_with_a_valid_argument() {
    let table = falco_rules::upstream_fields();
    assert_eq!(table.0.len(), 100, "the reference table has 100 fields");
    assert_eq!(
        check_refs_against(&table, "upstream k8saudit 0.18.0"),
        Vec::<String>::new()
    );
    // libsinsp only accepts exists/in/intersects on list fields.
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        for r in defined_rules(&set, file) {
            for c in set.expand(&r.condition).unwrap().0 {
                if table.0.get(&c.field).is_some_and(|f| f.is_list) {
                    assert!(
                        condition::LIST_FIELD_OPS.contains(&c.op.as_str()),
                        "{}: {} is a list field: {} is not allowed",
                        r.name,
                        c.field,
                        c.op
                    );
                }
            }
        }
    }
}

#[test]
fn every_field_the_rules_use_is_in_the_built_plugin_field_table() {
    let built = FieldTable::from_json(&support::fields_json());
    let upstream = falco_rules::upstream_fields();
    assert_eq!(
        check_refs_against(&built, "built plugin"),
        Vec::<String>::new()
    );
    // Same list flag and argument kinds as the reference, so conditions mean the same there.
    for (field, _, at, _) in our_field_refs()
        .into_iter()
        .filter(|(f, ..)| f.starts_with("ka."))
    {
        let (b, u) = (&built.0[&field], &upstream.0[&field]);
        assert_eq!(
            (b.is_list, b.arg_index, b.arg_key, b.arg_required),
            (u.is_list, u.arg_index, u.arg_key, u.arg_required),
            "{at}: {field} is declared differently by the built plugin"
        );
    }
}

#[test]
fn every_rule_has_a_description_a_priority_tags_and_an_on_call_output() {
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        for r in defined_rules(&set, file) {
            let n = &r.name;
            assert!(
                r.desc.split_whitespace().count() >= 12,
                "{n}: desc must explain what and why"
            );
            assert!(
                Priority::parse(&r.priority).is_some(),
                "{n}: priority {}",
                r.priority
            );
            assert_eq!(r.source, "k8s_audit", "{n}");
            assert!(r.tags.iter().any(|t| t == "k8s"), "{n}: tag k8s");
            assert!(
                r.tags.iter().any(|t| t.starts_with("mitre_")),
                "{n}: a mitre_* tactic tag"
            );
            assert!(
                r.tags.iter().any(|t| t.starts_with('T')),
                "{n}: a MITRE ATT&CK technique tag"
            );
            let fields: BTreeSet<String> = condition::output_fields(&r.output)
                .into_iter()
                .map(|(f, _)| f)
                .collect();
            for f in [
                "ka.user.name",
                "ka.verb",
                "ka.target.namespace",
                "ka.response.code",
                "ka.sourceips",
                "ka.useragent",
                "ka.cluster.name",
                "ka.auditid",
            ] {
                assert!(fields.contains(f), "{n}: the output must show %{f}");
            }
            assert!(
                ["ka.target.name", "ka.resp.name", "ka.uri"]
                    .iter()
                    .any(|f| fields.contains(*f)),
                "{n}: the output must name the target"
            );
        }
    }
}

/// The checks every audit event of the examples and the corpus passes.
fn check_mks_event(e: &serde_json::Value, at: &str) {
    assert_eq!(e["kind"], "Event", "{at}");
    assert_eq!(e["apiVersion"], "audit.k8s.io/v1", "{at}");
    for key in [
        "level",
        "stage",
        "requestURI",
        "verb",
        "stageTimestamp",
        "requestReceivedTimestamp",
    ] {
        assert!(e[key].is_string(), "{at}: {key}");
    }
    assert!(
        e["user"]["username"].is_string()
            && e["sourceIPs"].is_array()
            && e["userAgent"].is_string(),
        "{at}"
    );
    assert_ne!(
        e["stage"], "RequestReceived",
        "{at}: MKS does not log that stage"
    );
    if ["configmaps", "secrets"].contains(&e["objectRef"]["resource"].as_str().unwrap_or("")) {
        assert_eq!(
            e["level"], "Metadata",
            "{at}: MKS logs configmaps and secrets at Metadata level"
        );
        assert!(
            e.get("requestObject").is_none() && e.get("responseObject").is_none(),
            "{at}: no bodies at Metadata level"
        );
    }
}

#[test]
fn examples_are_mks_audit_events_naming_existing_rules() {
    let mut ids = BTreeSet::new();
    for suite in SUITES {
        let sets: BTreeMap<&str, RuleSet> = suite
            .setups
            .iter()
            .map(|s| (s.name, RuleSet::load(s.files).unwrap()))
            .collect();
        let examples = suite.examples();
        assert!(!examples.is_empty(), "{}: no examples", suite.dir);
        for ex in examples {
            let at = ex.at();
            for (setup, set) in &sets {
                let names = ex.fires[*setup]
                    .iter()
                    .chain(ex.all.get(*setup).into_iter().flatten())
                    .chain(&ex.must_not);
                for name in names {
                    assert!(
                        set.rule(name).is_some(),
                        "{at}: no rule {name:?} in setup {setup}"
                    );
                }
                if let Some(all) = ex.all.get(*setup) {
                    assert_eq!(
                        all.first(),
                        ex.fires[*setup].as_ref(),
                        "{at}: under rule_matching all, the first-match alert comes first"
                    );
                    assert!(
                        all.len() >= 2,
                        "{at}: give \"all\" only when it adds alerts"
                    );
                }
            }
            for m in &ex.must_not {
                assert!(
                    ex.fires.values().all(|f| f.as_ref() != Some(m)),
                    "{at}: {m} both fires and must not"
                );
            }
            check_mks_event(&ex.event, &at);
            assert!(
                ids.insert(ex.audit_id().to_owned()) && !ex.audit_id().is_empty(),
                "{at}: auditID must be unique"
            );
        }
    }
    for e in corpus::load() {
        let at = format!("corpus {:?} ({})", e.label, e.note);
        check_mks_event(&e.event, &at);
        assert!(
            ids.insert(e.audit_id().to_owned()),
            "{at}: auditID must be unique"
        );
    }
}

#[test]
fn every_rule_has_examples_that_raise_it_and_examples_that_do_not() {
    let mut missing = Vec::new();
    for suite in SUITES {
        let setup = suite.setups[0];
        let set = RuleSet::load(setup.files).unwrap();
        let examples = suite.examples();
        let pos: BTreeSet<&String> = examples
            .iter()
            .flat_map(|e| e.fires.values().flatten())
            .collect();
        let neg: BTreeSet<&String> = examples.iter().flat_map(|e| &e.must_not).collect();
        let quiet = examples
            .iter()
            .filter(|e| e.fires.values().all(Option::is_none))
            .count();
        assert!(
            quiet >= 5,
            "{}: only {quiet} examples raise nothing",
            suite.dir
        );
        for r in defined_rules(&set, suite.covers) {
            if !pos.contains(&r.name) {
                missing.push(format!("{}: no example raises it in {}", r.name, suite.dir));
            }
            if !neg.contains(&r.name) {
                missing.push(format!(
                    "{}: no example in {} must not raise it",
                    r.name, suite.dir
                ));
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
}

#[test]
fn the_corpus_has_several_variants_of_every_technique_and_a_day_of_traffic() {
    let events = corpus::load();
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    let (mut looks, mut ordinary) = (0, 0);
    for e in &events {
        match &e.label {
            corpus::Label::Attack(t) => *per.entry(t.clone()).or_default() += 1,
            corpus::Label::LookAlike(_) => looks += 1,
            corpus::Label::Ordinary => ordinary += 1,
        }
    }
    assert!(per.len() >= 35, "{} techniques", per.len());
    for (t, n) in &per {
        assert!(*n >= 3, "{t}: {n} variants");
    }
    assert!(
        looks >= 80 && ordinary >= 400,
        "{looks} look-alikes, {ordinary} ordinary"
    );
}

// The harness itself: a wrong parser or evaluator would make the examples prove nothing.

struct Fake(BTreeMap<&'static str, Vec<&'static str>>);

impl FieldSource for Fake {
    fn values(&mut self, field: &str, _arg: Option<&str>) -> Option<Vec<String>> {
        self.0
            .get(field)
            .map(|v| v.iter().map(|s| s.to_string()).collect())
    }
    fn is_list(&self, field: &str) -> bool {
        field == "ka.sourceips"
    }
}

#[test]
fn condition_parser_keeps_precedence_lists_and_arguments() {
    let e =
        condition::parse("not a and b or ka.uri.param[x] in (l, \"q\") and ka.verb=get").unwrap();
    let Expr::Or(v) = e else {
        panic!("or at the top")
    };
    assert!(matches!(&v[0], Expr::And(x) if matches!(&x[0], Expr::Not(_))));
    let Expr::And(x) = &v[1] else {
        panic!("and under or")
    };
    let Expr::Check(Check {
        field,
        arg,
        op,
        rhs,
    }) = &x[0]
    else {
        panic!("check")
    };
    assert_eq!(
        (field.as_str(), arg.as_deref(), op.as_str()),
        ("ka.uri.param", Some("x"), "in")
    );
    assert_eq!(
        rhs,
        &Rhs::List(vec![
            Atom {
                text: "l".into(),
                quoted: false
            },
            Atom {
                text: "q".into(),
                quoted: true
            }
        ])
    );
    assert!(condition::parse("ka.verb in (a, b").is_err());
    assert!(condition::parse("ka.verb = ").is_err());
    assert_eq!(
        condition::output_fields("x (user=%ka.user.name t=%ka.target.resource/%ka.target.name c=%ka.uri.param[command].)"),
        vec![
            ("ka.user.name".into(), None),
            ("ka.target.resource".into(), None),
            ("ka.target.name".into(), None),
            ("ka.uri.param".into(), Some("command".into()))
        ]
    );
}

#[test]
fn evaluator_follows_libsinsp_semantics_for_missing_values_and_list_fields() {
    let lists = BTreeMap::from([(
        "nets".to_owned(),
        vec!["10.0.0.1".to_owned(), "10.0.0.2".to_owned()],
    )]);
    let macros = BTreeMap::new();
    let env = Env {
        lists: &lists,
        macros: &macros,
    };
    let mut src = Fake(BTreeMap::from([
        ("ka.verb", vec!["get"]),
        ("ka.sourceips", vec!["10.0.0.1", "192.0.2.1"]),
    ]));
    let t = |c: &str, src: &mut Fake| env.eval(&condition::parse(c).unwrap(), src).unwrap();
    assert!(t("ka.verb = get and ka.verb in (list, get)", &mut src));
    // No value: every comparison is false, even != and exists; only `not` makes it true.
    assert!(!t("ka.user.name != x", &mut src));
    assert!(!t("ka.user.name exists", &mut src));
    assert!(t("not ka.user.name = x", &mut src));
    // Lists: `in` needs every value in the set, `intersects` one.
    assert!(!t("ka.sourceips in (nets)", &mut src));
    assert!(t("ka.sourceips intersects (nets)", &mut src));
    assert!(
        !t("ka.sourceips intersects (\"nets\")", &mut src),
        "a quoted name is a literal"
    );
    assert!(env
        .eval(
            &condition::parse("ka.sourceips startswith 10").unwrap(),
            &mut src
        )
        .is_err());
}

/// The cases of `tests/fixtures/rules/model/`: what Falco 0.44.1 does with those files
/// (`rules_falco` checks the same cases against Falco itself).
#[test]
fn evaluator_models_falco_first_match_load_order_and_overrides() {
    let event = model::event();
    let mut x = Extractor::new();
    let mut src = x.event(&event);
    let cases = model::cases();
    assert!(cases.len() >= 5);
    for case in cases {
        let got = case
            .ruleset()
            .compile(case.priority)
            .unwrap()
            .evaluate(&mut src, case.matching)
            .unwrap();
        assert_eq!(
            got,
            case.expected,
            "{} ({})",
            case.name,
            case.matching.name()
        );
    }
}

#[test]
fn setups_name_existing_files_and_the_examples_use_them_all() {
    for s in SETUPS {
        RuleSet::load(s.files).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(
            s.json_plugin,
            [STOCK, OVERLAY, JSON_RULES]
                .iter()
                .any(|f| s.files.contains(f)),
            "{}",
            s.name
        );
        assert!(
            SUITES
                .iter()
                .any(|x| x.setups.iter().any(|y| y.name == s.name)),
            "no examples for {}",
            s.name
        );
    }
    assert_eq!(setups::recommended().count(), 2);
    assert!(setups::recommended().all(|s| s.json_plugin));
}

#[test]
fn docs_name_every_rule_and_every_stock_rule_the_overlay_turns_off() {
    let doc = std::fs::read_to_string(falco_rules::repo().join("docs/rules.md")).unwrap();
    for (file, _) in OUR_FILES {
        let set = load_with_prerequisites(file);
        let meta = &set.files[*file];
        for name in &meta.rules {
            assert!(
                doc.contains(name.as_str()),
                "docs/rules.md does not name {name} ({file})"
            );
        }
        for name in meta.lists.iter().filter(|l| !meta.overrides.contains(l)) {
            if name.starts_with("mks_known")
                || name.ends_with("_users")
                || name.ends_with("_images")
            {
                assert!(
                    doc.contains(name.as_str()),
                    "docs/rules.md does not name list {name}"
                );
            }
        }
    }
}
