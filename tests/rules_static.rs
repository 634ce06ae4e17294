//! Static checks of the rules in `rules/`, without Falco: the files parse and declare their
//! requirements; every field they use exists in the plugin's field table with a valid
//! argument; every macro and list they reference is defined where Falco would look; every
//! rule reads well to an on-call engineer and has positive and negative examples.

mod falco_rules;
mod support;

use falco_rules::condition::{self, Atom, Check, Env, Expr, FieldSource, Rhs};
use falco_rules::examples::SUITES;
use falco_rules::{rule_field_refs, FieldTable, RuleSet, OVERLAY, OWN_RULES, STOCK};
use std::collections::{BTreeMap, BTreeSet};

fn own() -> RuleSet {
    RuleSet::load(&[OWN_RULES]).unwrap()
}

fn stock_and_overlay() -> RuleSet {
    RuleSet::load(&[STOCK, OVERLAY]).unwrap()
}

/// Field references of our own rules and of the overlay's exceptions (the stock rules use the
/// json plugin's `jevt.*` fields, which are not ours to check).
fn our_field_refs() -> Vec<(String, Option<String>, String)> {
    let set = own();
    let mut refs = Vec::new();
    for r in &set.rules {
        refs.extend(rule_field_refs(&set, r).unwrap());
    }
    let set = stock_and_overlay();
    for r in &set.rules {
        for e in r.exceptions.iter().filter(|e| e.file == OVERLAY) {
            for f in &e.fields {
                let (f, a) = falco_rules::split_field(f);
                refs.push((
                    f.to_owned(),
                    a.map(str::to_owned),
                    format!("exception {} of {}", e.name, r.name),
                ));
            }
        }
    }
    refs
}

#[test]
fn rules_files_declare_engine_and_plugin_requirements_where_falcoctl_reads_them() {
    let ours = env!("CARGO_PKG_VERSION");
    for file in [OWN_RULES, OVERLAY] {
        let set = RuleSet::load(&[file])
            .or_else(|_| RuleSet::load(&[STOCK, file]))
            .unwrap();
        let meta = &set.files[file];
        assert_eq!(
            meta.engine_version.as_deref(),
            Some("0.31.0"),
            "{file}: Falco 0.37 is engine 0.31.0"
        );
        let req = meta
            .plugins
            .iter()
            .find(|p| p.name == "k8saudit-ovh")
            .unwrap_or_else(|| panic!("{file} must require the k8saudit-ovh plugin"));
        // Falco accepts a plugin of the same major version and at least the required one.
        let parse = |v: &str| -> Vec<u64> { v.split('.').map(|x| x.parse().unwrap()).collect() };
        let (want, have) = (parse(&req.version), parse(ours));
        assert!(
            want[0] == have[0] && want <= have,
            "{file} requires {} but the plugin is {ours}",
            req.version
        );
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
    let own = own();
    assert_eq!(
        own.files[OWN_RULES].plugins,
        vec![falco_rules::PluginRequirement {
            name: "k8saudit-ovh".into(),
            version: ours.into(),
            alternatives: vec![],
        }],
        "the self-contained file needs this plugin, at this version, and nothing else"
    );
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
fn own_rules_file_is_self_contained_and_respects_falco_definition_order() {
    let set = own();
    assert!(
        set.rules.len() >= 15,
        "expected the full rule set, found {}",
        set.rules.len()
    );
    let stock = RuleSet::load(&[STOCK]).unwrap();
    for name in set.lists.keys().chain(set.macros.keys()) {
        assert!(
            name.starts_with("mks_"),
            "{name}: our lists and macros are prefixed mks_"
        );
        assert!(
            !stock.lists.contains_key(name) && !stock.macros.contains_key(name),
            "{name} redefines a stock name"
        );
    }
    for r in &set.rules {
        assert!(
            r.name.starts_with("MKS "),
            "{}: our rules are prefixed MKS",
            r.name
        );
        assert!(
            stock.rule(&r.name).is_none(),
            "{} redefines a stock rule",
            r.name
        );
        // Every macro resolves within this file alone.
        set.expand(&r.condition)
            .unwrap_or_else(|e| panic!("{}: {e}", r.name));
    }
    // Falco compiles a macro, or a rule, seeing only the macros defined before it.
    let mut entries: Vec<(usize, String, String)> = set
        .macros
        .values()
        .map(|m| (m.index, m.name.clone(), m.condition.clone()))
        .collect();
    entries.extend(
        set.rules
            .iter()
            .map(|r| (r.index, r.name.clone(), r.condition.clone())),
    );
    for (index, name, cond) in &entries {
        let e = condition::parse(cond).unwrap_or_else(|e| panic!("{name}: {e}"));
        for m in e.macros() {
            let def = set
                .macros
                .get(&m)
                .unwrap_or_else(|| panic!("{name} uses undefined macro {m}"));
            assert!(
                def.index < *index,
                "{name} uses macro {m}, defined after it"
            );
        }
        for c in e.checks() {
            if let Rhs::List(items) = &c.rhs {
                assert_eq!(
                    suspicious_literals(&set, items),
                    Vec::<String>::new(),
                    "{name}: undefined list?"
                );
            }
        }
    }
    // A list item naming a list expands only if that list is defined earlier, and only one
    // level deep.
    for l in set.lists.values() {
        for item in &l.items {
            if let Some(r) = set.lists.get(item) {
                assert!(
                    r.index < l.index,
                    "list {} includes {item}, defined after it",
                    l.name
                );
                assert!(
                    r.items.iter().all(|i| !set.lists.contains_key(i)),
                    "list {} includes {item}, which includes a list: Falco expands one level only",
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
    // Lists and macros are all used.
    let mut used_lists = BTreeSet::new();
    let mut used_macros = BTreeSet::new();
    for r in &set.rules {
        used_lists.extend(set.lists_used(&r.condition).unwrap());
        used_macros.extend(set.expand(&r.condition).unwrap().1);
    }
    for l in set.lists.keys() {
        assert!(used_lists.contains(l), "list {l} is used by no rule");
    }
    for m in set.macros.keys() {
        assert!(used_macros.contains(m), "macro {m} is used by no rule");
    }
}

#[test]
fn overlay_only_tunes_stock_names() {
    // Loading fails if the overlay overrides a name the stock file does not define.
    let set = stock_and_overlay();
    let meta = &set.files[OVERLAY];
    let defined: Vec<&String> = meta
        .lists
        .iter()
        .chain(&meta.macros)
        .chain(&meta.rules)
        .collect();
    assert!(!defined.is_empty());
    for name in defined {
        assert!(
            meta.overrides.contains(name),
            "the overlay defines {name} instead of tuning a stock entry"
        );
    }
    let excs: Vec<_> = set
        .rule("Disallowed K8s User")
        .unwrap()
        .exceptions
        .iter()
        .filter(|e| e.file == OVERLAY)
        .collect();
    let users: BTreeSet<&str> = excs
        .iter()
        .flat_map(|e| e.rows.iter().flatten().flatten())
        .map(String::as_str)
        .collect();
    for u in ["yacht", "csi-cinder-controller"] {
        assert!(
            users.contains(u),
            "the overlay must except {u} from Disallowed K8s User"
        );
    }
}

fn check_refs_against(table: &FieldTable, what: &str) -> Vec<String> {
    let mut problems = BTreeSet::new();
    for (field, arg, at) in our_field_refs() {
        if !field.starts_with("ka.") {
            problems.insert(format!(
                "{at}: {field} is not a ka.* field (the rules must need only this plugin)"
            ));
            continue;
        }
        if let Some(p) = table.problem(&field, arg.as_deref()) {
            problems.insert(format!("{at}: {p} ({what})"));
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
    let set = own();
    for r in &set.rules {
        for c in set.expand(&r.condition).unwrap().0 {
            if table.0[&c.field].is_list {
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

#[test]
fn every_field_the_rules_use_is_in_the_built_plugin_field_table() {
    let built = FieldTable::from_json(&support::fields_json());
    let upstream = falco_rules::upstream_fields();
    assert_eq!(
        check_refs_against(&built, "built plugin"),
        Vec::<String>::new()
    );
    // Same list flag and argument kinds as the reference, so conditions mean the same there.
    for (field, _, at) in our_field_refs() {
        let (b, u) = (&built.0[&field], &upstream.0[&field]);
        assert_eq!(
            (b.is_list, b.arg_index, b.arg_key, b.arg_required),
            (u.is_list, u.arg_index, u.arg_key, u.arg_required),
            "{at}: {field} is declared differently by the built plugin"
        );
    }
}

const PRIORITIES: &[&str] = &[
    "EMERGENCY",
    "ALERT",
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFORMATIONAL",
    "INFO",
    "DEBUG",
];

#[test]
fn every_rule_has_a_description_a_priority_tags_and_an_on_call_output() {
    let set = own();
    for r in &set.rules {
        let n = &r.name;
        assert!(
            r.desc.split_whitespace().count() >= 12,
            "{n}: desc must explain what and why"
        );
        assert!(
            PRIORITIES.contains(&r.priority.to_uppercase().as_str()),
            "{n}: priority {}",
            r.priority
        );
        assert_eq!(r.source, "k8s_audit", "{n}");
        assert!(r.tags.iter().any(|t| t == "k8s"), "{n}: tag k8s");
        assert!(
            r.tags.iter().any(|t| t.starts_with("mitre_")),
            "{n}: a mitre_* tactic tag"
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
        assert!(
            !r.output.contains('\n') || r.output.trim_end().lines().count() == 1,
            "{n}: one-line output"
        );
    }
}

#[test]
fn examples_are_audit_events_naming_existing_rules() {
    let mut ids = BTreeSet::new();
    for suite in SUITES {
        let set = RuleSet::load(suite.rules_files).unwrap();
        let examples = suite.examples();
        assert!(!examples.is_empty(), "{}: no examples", suite.dir);
        for ex in examples {
            let at = ex.at();
            assert!(
                !ex.must.is_empty() || !ex.must_not.is_empty(),
                "{at}: names no rule"
            );
            for name in ex.must.iter().chain(&ex.must_not) {
                assert!(
                    set.rule(name).is_some(),
                    "{at}: no rule {name:?} in {:?}",
                    suite.rules_files
                );
            }
            assert!(
                ex.must.iter().all(|m| !ex.must_not.contains(m)),
                "{at}: a rule in both must and must_not"
            );
            let e = &ex.event;
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
            if ["configmaps", "secrets"]
                .contains(&e["objectRef"]["resource"].as_str().unwrap_or(""))
            {
                assert_eq!(
                    e["level"], "Metadata",
                    "{at}: MKS logs configmaps and secrets at Metadata level"
                );
            }
            assert!(
                ids.insert(ex.audit_id().to_owned()) && !ex.audit_id().is_empty(),
                "{at}: auditID must be unique"
            );
        }
    }
}

#[test]
fn every_rule_and_every_overlay_entry_has_positive_and_negative_examples() {
    let mut missing = Vec::new();
    for suite in SUITES {
        let set = RuleSet::load(suite.rules_files).unwrap();
        let examples = suite.examples();
        let pos: BTreeSet<&String> = examples.iter().flat_map(|e| &e.must).collect();
        let neg: BTreeSet<&String> = examples.iter().flat_map(|e| &e.must_not).collect();
        let ours = suite.rules_files.last().unwrap();
        let meta = &set.files[*ours];
        for r in &meta.rules {
            if !pos.contains(r) {
                missing.push(format!(
                    "{r}: no example that must trigger it in {}",
                    suite.dir
                ));
            }
            if !neg.contains(r) {
                missing.push(format!(
                    "{r}: no example that must not trigger it in {}",
                    suite.dir
                ));
            }
        }
        // An overlay list is covered when some example shows a rule using it staying quiet,
        // and some example shows that rule still firing.
        if *ours == OVERLAY {
            for l in &meta.lists {
                let users: Vec<&String> = pos
                    .iter()
                    .chain(neg.iter())
                    .copied()
                    .filter(|name| {
                        set.lists_used(&set.rule(name).unwrap().condition)
                            .unwrap()
                            .contains(l)
                    })
                    .collect();
                if !users.iter().any(|u| neg.contains(u)) || !users.iter().any(|u| pos.contains(u))
                {
                    missing.push(format!(
                        "list {l}: needs examples of a rule using it, quiet and firing"
                    ));
                }
            }
        }
    }
    assert_eq!(missing, Vec::<String>::new());
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
