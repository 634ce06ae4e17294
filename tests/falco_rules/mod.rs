//! Falco rules files as the rules tests see them: loading several files in order with
//! `override`/`append` (Falco 0.36+ semantics), compiling lists and macros as Falco 0.44 does
//! (the last definition wins, wherever it is), evaluating an event under `rule_matching:
//! first` or `all`, the plugin's field table, the setups the README recommends, the examples
//! under `rules/tests/`, the detection corpus, and a real Falco to run them through.

#![allow(dead_code)]

pub mod condition;
pub mod corpus;
pub mod eval;
pub mod examples;
pub mod falco;
pub mod model;
pub mod setups;

use condition::{Check, Env, Expr, FieldSource};
use serde_json::Value as Json;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub const OWN_RULES: &str = "rules/k8s_audit_ovh_rules.yaml";
pub const OVERLAY: &str = "rules/k8s_audit_ovh_overlay.yaml";
/// Opt-in rules (the catch-all), loaded after `OWN_RULES`.
pub const SANDBOX: &str = "rules/k8s_audit_ovh_sandbox_rules.yaml";
/// Rules that need the json plugin, loaded after `OWN_RULES`.
pub const JSON_RULES: &str = "rules/k8s_audit_ovh_json_rules.yaml";
/// Falco's stock rules, copied from the project's shared fixtures (see the README beside it).
pub const STOCK: &str = "tests/fixtures/rules/k8s_audit_rules.yaml";

#[derive(Debug, Clone)]
pub struct ListDef {
    pub name: String,
    pub items: Vec<String>,
    pub index: usize,
    pub file: String,
}

#[derive(Debug, Clone)]
pub struct MacroDef {
    pub name: String,
    pub condition: String,
    pub index: usize,
    pub file: String,
}

/// One exception row cell: a single value, or a list for set comparisons.
pub type Cell = Vec<String>;

#[derive(Debug, Clone)]
pub struct Exception {
    pub name: String,
    pub fields: Vec<String>,
    pub comps: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    pub file: String,
}

#[derive(Debug, Clone)]
pub struct RuleDef {
    pub name: String,
    pub desc: String,
    pub condition: String,
    pub output: String,
    pub priority: String,
    pub source: String,
    pub tags: Vec<String>,
    pub enabled: bool,
    pub exceptions: Vec<Exception>,
    pub index: usize,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PluginRequirement {
    pub name: String,
    pub version: String,
    pub alternatives: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct FileMeta {
    pub engine_version: Option<String>,
    pub plugins: Vec<PluginRequirement>,
    /// Names each kind of entry defines or overrides in this file, in order.
    pub lists: Vec<String>,
    pub macros: Vec<String>,
    pub rules: Vec<String>,
    /// Names this file overrides or appends to.
    pub overrides: Vec<String>,
}

/// Every list, macro and rule of the files loaded so far.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub lists: BTreeMap<String, ListDef>,
    pub macros: BTreeMap<String, MacroDef>,
    pub rules: Vec<RuleDef>,
    pub files: BTreeMap<String, FileMeta>,
    counter: usize,
}

fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a scalar, got {other:?}")),
    }
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Sequence(s) => s.iter().map(scalar).collect(),
        Value::Null => Ok(vec![]),
        other => Ok(vec![scalar(other)?]),
    }
}

fn get<'a>(m: &'a serde_yaml::Mapping, k: &str) -> Option<&'a Value> {
    m.get(Value::String(k.into()))
}

fn get_str(m: &serde_yaml::Mapping, k: &str) -> Result<String, String> {
    get(m, k)
        .ok_or_else(|| format!("missing key {k}"))
        .and_then(scalar)
}

/// `override:` as key → "append" | "replace", or the legacy `append: true` for `key`.
fn overrides(
    m: &serde_yaml::Mapping,
    legacy_key: &str,
) -> Result<Option<BTreeMap<String, String>>, String> {
    if let Some(o) = get(m, "override") {
        let o = o.as_mapping().ok_or("override must be a mapping")?;
        let mut out = BTreeMap::new();
        for (k, v) in o {
            let (k, v) = (scalar(k)?, scalar(v)?);
            if v != "append" && v != "replace" {
                return Err(format!("override {k}: {v} is neither append nor replace"));
            }
            out.insert(k, v);
        }
        return Ok(Some(out));
    }
    if get(m, "append").and_then(Value::as_bool) == Some(true) {
        return Ok(Some(BTreeMap::from([(
            legacy_key.to_owned(),
            "append".to_owned(),
        )])));
    }
    Ok(None)
}

fn exceptions(v: &Value, file: &str) -> Result<Vec<Exception>, String> {
    let seq = v.as_sequence().ok_or("exceptions must be a list")?;
    let mut out = Vec::new();
    for e in seq {
        let m = e.as_mapping().ok_or("an exception must be a mapping")?;
        let name = get_str(m, "name")?;
        let values = get(m, "values").cloned().unwrap_or(Value::Null);
        let (fields, comps, rows) = match get(m, "fields") {
            Some(Value::Sequence(f)) => {
                let fields: Vec<String> = f.iter().map(scalar).collect::<Result<_, _>>()?;
                let comps = match get(m, "comps") {
                    Some(c) => strings(c)?,
                    None => vec!["=".to_owned(); fields.len()],
                };
                let mut rows = Vec::new();
                for row in values.as_sequence().into_iter().flatten() {
                    let cells = row.as_sequence().ok_or("exception values must be lists")?;
                    rows.push(cells.iter().map(strings).collect::<Result<Vec<_>, _>>()?);
                }
                (fields, comps, rows)
            }
            Some(f) => {
                let comp = match get(m, "comps") {
                    Some(c) => scalar(c)?,
                    None => "in".to_owned(),
                };
                (vec![scalar(f)?], vec![comp], vec![vec![strings(&values)?]])
            }
            None => return Err(format!("exception {name} has no fields")),
        };
        if comps.len() != fields.len() || rows.iter().any(|r| r.len() != fields.len()) {
            return Err(format!(
                "exception {name}: fields, comps and values differ in length"
            ));
        }
        out.push(Exception {
            name,
            fields,
            comps,
            rows,
            file: file.to_owned(),
        });
    }
    Ok(out)
}

impl RuleSet {
    /// Loads `paths` (relative to the repository root) in order.
    pub fn load(paths: &[&str]) -> Result<RuleSet, String> {
        let mut set = RuleSet::default();
        for p in paths {
            let text = std::fs::read_to_string(repo().join(p)).map_err(|e| format!("{p}: {e}"))?;
            set.add_file(p, &text).map_err(|e| format!("{p}: {e}"))?;
        }
        Ok(set)
    }

    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), String> {
        let doc: Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let items = doc.as_sequence().ok_or("a rules file is a YAML list")?;
        let mut meta = FileMeta::default();
        for item in items {
            let m = item.as_mapping().ok_or("every entry must be a mapping")?;
            self.add_entry(file, m, &mut meta)?;
        }
        self.files.insert(file.to_owned(), meta);
        Ok(())
    }

    fn add_entry(
        &mut self,
        file: &str,
        m: &serde_yaml::Mapping,
        meta: &mut FileMeta,
    ) -> Result<(), String> {
        self.counter += 1;
        let index = self.counter;
        if let Some(v) = get(m, "required_engine_version") {
            meta.engine_version = Some(scalar(v)?);
        } else if let Some(v) = get(m, "required_plugin_versions") {
            for p in v
                .as_sequence()
                .ok_or("required_plugin_versions must be a list")?
            {
                let p = p
                    .as_mapping()
                    .ok_or("a plugin requirement must be a mapping")?;
                let mut alternatives = Vec::new();
                for a in get(p, "alternatives")
                    .and_then(Value::as_sequence)
                    .into_iter()
                    .flatten()
                {
                    let a = a.as_mapping().ok_or("an alternative must be a mapping")?;
                    alternatives.push((get_str(a, "name")?, get_str(a, "version")?));
                }
                meta.plugins.push(PluginRequirement {
                    name: get_str(p, "name")?,
                    version: get_str(p, "version")?,
                    alternatives,
                });
            }
        } else if let Some(name) = get(m, "list") {
            let name = scalar(name)?;
            let items = strings(get(m, "items").unwrap_or(&Value::Null))?;
            meta.lists.push(name.clone());
            match overrides(m, "items")? {
                Some(o) => {
                    let l = self
                        .lists
                        .get_mut(&name)
                        .ok_or_else(|| format!("override of undefined list {name}"))?;
                    match o.get("items").map(String::as_str) {
                        Some("append") => l.items.extend(items),
                        Some(_) => l.items = items,
                        None => return Err(format!("list {name}: override without items")),
                    }
                    meta.overrides.push(name);
                }
                None => {
                    self.lists.insert(
                        name.clone(),
                        ListDef {
                            name,
                            items,
                            index,
                            file: file.to_owned(),
                        },
                    );
                }
            }
        } else if let Some(name) = get(m, "macro") {
            let name = scalar(name)?;
            let cond = get_str(m, "condition")?;
            meta.macros.push(name.clone());
            match overrides(m, "condition")? {
                Some(o) => {
                    let d = self
                        .macros
                        .get_mut(&name)
                        .ok_or_else(|| format!("override of undefined macro {name}"))?;
                    match o.get("condition").map(String::as_str) {
                        Some("append") => d.condition = format!("{} {}", d.condition, cond),
                        Some(_) => d.condition = cond,
                        None => return Err(format!("macro {name}: override without condition")),
                    }
                    meta.overrides.push(name);
                }
                None => {
                    self.macros.insert(
                        name.clone(),
                        MacroDef {
                            name,
                            condition: cond,
                            index,
                            file: file.to_owned(),
                        },
                    );
                }
            }
        } else if let Some(name) = get(m, "rule") {
            let name = scalar(name)?;
            meta.rules.push(name.clone());
            self.add_rule(file, &name, m, index, meta)?;
        } else {
            return Err(format!("unknown entry {m:?}"));
        }
        Ok(())
    }

    fn add_rule(
        &mut self,
        file: &str,
        name: &str,
        m: &serde_yaml::Mapping,
        index: usize,
        meta: &mut FileMeta,
    ) -> Result<(), String> {
        let excs = match get(m, "exceptions") {
            Some(v) => exceptions(v, file)?,
            None => vec![],
        };
        let enabled = get(m, "enabled").and_then(Value::as_bool);
        let ov = overrides(m, "condition")?;
        let existing = self.rules.iter_mut().find(|r| r.name == name);
        match (ov, existing) {
            (Some(o), Some(r)) => {
                for (key, how) in &o {
                    let append = how == "append";
                    match key.as_str() {
                        "exceptions" if append => r.exceptions.extend(excs.clone()),
                        "exceptions" => r.exceptions = excs.clone(),
                        "condition" if append => {
                            r.condition = format!("{} {}", r.condition, get_str(m, "condition")?)
                        }
                        "condition" => r.condition = get_str(m, "condition")?,
                        "output" if append => {
                            r.output = format!("{} {}", r.output, get_str(m, "output")?)
                        }
                        "output" => r.output = get_str(m, "output")?,
                        "desc" => r.desc = get_str(m, "desc")?,
                        "priority" => r.priority = get_str(m, "priority")?,
                        "tags" if append => r
                            .tags
                            .extend(strings(get(m, "tags").unwrap_or(&Value::Null))?),
                        "tags" => r.tags = strings(get(m, "tags").unwrap_or(&Value::Null))?,
                        "enabled" => r.enabled = enabled.unwrap_or(r.enabled),
                        other => {
                            return Err(format!("rule {name}: unsupported override key {other}"))
                        }
                    }
                }
                meta.overrides.push(name.to_owned());
            }
            (Some(_), None) => return Err(format!("override of undefined rule {name}")),
            (None, Some(r)) if get(m, "condition").is_none() => {
                // `- rule: X` + `enabled: false` toggles an existing rule.
                r.enabled =
                    enabled.ok_or_else(|| format!("rule {name} redefined without condition"))?;
                meta.overrides.push(name.to_owned());
            }
            (None, existing) => {
                let rule = RuleDef {
                    name: name.to_owned(),
                    desc: get_str(m, "desc")?,
                    condition: get_str(m, "condition")?,
                    output: get_str(m, "output")?,
                    priority: get_str(m, "priority")?,
                    source: get(m, "source")
                        .map(scalar)
                        .transpose()?
                        .unwrap_or_else(|| "syscall".into()),
                    tags: strings(get(m, "tags").unwrap_or(&Value::Null))?,
                    enabled: enabled.unwrap_or(true),
                    exceptions: excs,
                    index,
                    file: file.to_owned(),
                };
                match existing {
                    Some(r) => *r = rule,
                    None => self.rules.push(rule),
                }
            }
        }
        Ok(())
    }

    pub fn rule(&self, name: &str) -> Option<&RuleDef> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Lists as Falco 0.44 compiles them: every item that names a list (wherever that list is
    /// defined, and in its last definition) is replaced by that list's items, recursively.
    /// Falco pastes items into the condition's text: an item written in quotes (`'["ALL"]'`)
    /// is that string literal, quotes removed.
    pub fn compiled_lists(&self) -> BTreeMap<String, Vec<String>> {
        fn literal(item: &str) -> String {
            for q in ['\'', '"'] {
                if item.len() >= 2 && item.starts_with(q) && item.ends_with(q) {
                    return item[1..item.len() - 1].to_owned();
                }
            }
            item.to_owned()
        }
        fn expand(set: &RuleSet, name: &str, seen: &mut Vec<String>, out: &mut Vec<String>) {
            let Some(l) = set.lists.get(name) else {
                return;
            };
            seen.push(name.to_owned());
            for i in &l.items {
                if set.lists.contains_key(i) && !seen.contains(i) {
                    expand(set, i, seen, out);
                } else {
                    out.push(literal(i));
                }
            }
            seen.pop();
        }
        self.lists
            .keys()
            .map(|name| {
                let mut out = Vec::new();
                expand(self, name, &mut Vec::new(), &mut out);
                (name.clone(), out)
            })
            .collect()
    }

    /// Parsed macros.
    pub fn compiled_macros(&self) -> Result<BTreeMap<String, Expr>, String> {
        self.macros
            .values()
            .map(|m| {
                Ok((
                    m.name.clone(),
                    condition::parse(&m.condition).map_err(|e| format!("macro {}: {e}", m.name))?,
                ))
            })
            .collect()
    }

    /// Every check a condition makes, through the macros it uses (transitively), and the
    /// names of those macros.
    pub fn expand(&self, cond: &str) -> Result<(Vec<Check>, BTreeSet<String>), String> {
        let mut checks = Vec::new();
        let mut seen = BTreeSet::new();
        let mut todo = vec![condition::parse(cond)?];
        while let Some(e) = todo.pop() {
            checks.extend(e.checks());
            for m in e.macros() {
                if seen.insert(m.clone()) {
                    let d = self
                        .macros
                        .get(&m)
                        .ok_or_else(|| format!("undefined macro {m}"))?;
                    todo.push(condition::parse(&d.condition)?);
                }
            }
        }
        Ok((checks, seen))
    }

    /// Lists a condition uses (directly or through macros): unquoted list-operand names that
    /// name a list, plus the lists those include.
    pub fn lists_used(&self, cond: &str) -> Result<BTreeSet<String>, String> {
        let (checks, _) = self.expand(cond)?;
        let mut out = BTreeSet::new();
        for c in checks {
            if let condition::Rhs::List(items) = &c.rhs {
                for a in items.iter().filter(|a| !a.quoted) {
                    if let Some(l) = self.lists.get(&a.text) {
                        out.insert(l.name.clone());
                        out.extend(
                            l.items
                                .iter()
                                .filter(|i| self.lists.contains_key(*i))
                                .cloned(),
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// The rule set as Falco runs it: conditions parsed, lists expanded, rules below
    /// `min_priority` left out (Falco does not load them).
    pub fn compile(&self, min_priority: Priority) -> Result<Compiled, String> {
        let mut rules = Vec::new();
        for r in &self.rules {
            let cond =
                condition::parse(&r.condition).map_err(|e| format!("rule {}: {e}", r.name))?;
            let priority = Priority::parse(&r.priority)
                .ok_or_else(|| format!("rule {}: priority {}", r.name, r.priority))?;
            rules.push(CompiledRule {
                def: r.clone(),
                cond,
                priority,
                loaded: priority <= min_priority,
            });
        }
        Ok(Compiled {
            lists: self.compiled_lists(),
            macros: self.compiled_macros()?,
            rules,
        })
    }
}

/// Falco's `rule_matching`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// The default: for each event, only the first matching rule in load order fires.
    First,
    /// Every matching rule fires, in load order.
    All,
}

impl Matching {
    pub fn name(self) -> &'static str {
        match self {
            Matching::First => "first",
            Matching::All => "all",
        }
    }
}

/// Falco's priorities, most severe first (`Priority::Debug` is the least severe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Emergency,
    Alert,
    Critical,
    Error,
    Warning,
    Notice,
    Informational,
    Debug,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Priority> {
        Some(match s.to_ascii_lowercase().as_str() {
            "emergency" => Priority::Emergency,
            "alert" => Priority::Alert,
            "critical" => Priority::Critical,
            "error" => Priority::Error,
            "warning" => Priority::Warning,
            "notice" => Priority::Notice,
            "informational" | "info" => Priority::Informational,
            "debug" => Priority::Debug,
            _ => return None,
        })
    }
}

pub struct CompiledRule {
    pub def: RuleDef,
    pub cond: Expr,
    pub priority: Priority,
    /// At or above the configured minimum priority.
    pub loaded: bool,
}

/// A rule set ready to evaluate events.
pub struct Compiled {
    pub lists: BTreeMap<String, Vec<String>>,
    pub macros: BTreeMap<String, Expr>,
    pub rules: Vec<CompiledRule>,
}

impl Compiled {
    fn matches(&self, r: &CompiledRule, src: &mut dyn FieldSource) -> Result<bool, String> {
        let env = Env {
            lists: &self.lists,
            macros: &self.macros,
        };
        let name = &r.def.name;
        if !env
            .eval(&r.cond, src)
            .map_err(|e| format!("rule {name}: {e}"))?
        {
            return Ok(false);
        }
        Ok(!excepted(&r.def, &self.lists, src)?)
    }

    /// The rules Falco raises for an event, in load order: with [`Matching::First`], at most
    /// one. Disabled rules, and rules below the minimum priority, are not loaded.
    pub fn evaluate(
        &self,
        src: &mut dyn FieldSource,
        matching: Matching,
    ) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for r in self.rules.iter().filter(|r| r.def.enabled && r.loaded) {
            if self.matches(r, src)? {
                out.push(r.def.name.clone());
                if matching == Matching::First {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every rule whose condition matches, enabled or not: what the event would raise if
    /// nothing were turned off.
    pub fn matching_any(&self, src: &mut dyn FieldSource) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for r in &self.rules {
            if self.matches(r, src)? {
                out.push(r.def.name.clone());
            }
        }
        Ok(out)
    }
}

fn excepted(
    r: &RuleDef,
    lists: &BTreeMap<String, Vec<String>>,
    src: &mut dyn FieldSource,
) -> Result<bool, String> {
    for e in &r.exceptions {
        for row in &e.rows {
            let mut all = true;
            for ((field, comp), cell) in e.fields.iter().zip(&e.comps).zip(row) {
                let (field, arg) = split_field(field);
                let check = Check {
                    field: field.to_owned(),
                    arg: arg.map(str::to_owned),
                    op: comp.clone(),
                    rhs: condition::Rhs::None,
                };
                let rhs: Vec<String> = cell
                    .iter()
                    .flat_map(|v| lists.get(v).cloned().unwrap_or_else(|| vec![v.clone()]))
                    .collect();
                if !condition::compare(&check, &rhs, src)? {
                    all = false;
                    break;
                }
            }
            if all {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// `name[arg]` → (name, Some(arg)).
pub fn split_field(f: &str) -> (&str, Option<&str>) {
    match f.find('[') {
        Some(i) if f.ends_with(']') => (&f[..i], Some(&f[i + 1..f.len() - 1])),
        _ => (f, None),
    }
}

/// One row of a plugin field table.
#[derive(Debug, Clone)]
pub struct FieldInfo {
    pub is_list: bool,
    pub arg_required: bool,
    pub arg_index: bool,
    pub arg_key: bool,
}

/// A plugin's field table, from the JSON `plugin_get_fields` returns.
#[derive(Debug, Clone, Default)]
pub struct FieldTable(pub HashMap<String, FieldInfo>);

impl FieldTable {
    pub fn from_json(v: &Json) -> FieldTable {
        let rows = v.as_array().expect("field table is a JSON array");
        FieldTable(
            rows.iter()
                .map(|f| {
                    let arg = &f["arg"];
                    let flag = |k: &str| arg[k].as_bool().unwrap_or(false);
                    (
                        f["name"].as_str().expect("field name").to_owned(),
                        FieldInfo {
                            is_list: f["isList"].as_bool().unwrap_or(false),
                            arg_required: flag("isRequired"),
                            arg_index: flag("isIndex"),
                            arg_key: flag("isKey"),
                        },
                    )
                })
                .collect(),
        )
    }

    /// The field reference problem, if any: unknown field, or an argument it does not take.
    pub fn problem(&self, field: &str, arg: Option<&str>) -> Option<String> {
        let Some(info) = self.0.get(field) else {
            return Some(format!("{field} is not a field of the plugin"));
        };
        match arg {
            None if info.arg_required => Some(format!("{field} needs an argument")),
            None => None,
            Some(_) if !info.arg_index && !info.arg_key => {
                Some(format!("{field} takes no argument"))
            }
            Some(a) if info.arg_index && !info.arg_key && a.parse::<u64>().is_err() => {
                Some(format!("{field}[{a}]: the argument must be an index"))
            }
            Some("") => Some(format!("{field}[]: empty argument")),
            Some(_) => None,
        }
    }
}

/// Reads the upstream field table copied into the test fixtures.
pub fn upstream_fields() -> FieldTable {
    let p = repo().join("tests/fixtures/rules/upstream-fields.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    FieldTable::from_json(&serde_json::from_str(&text).expect("upstream-fields.json"))
}

/// Every field reference of a rule (condition through macros, exceptions, output), with
/// where it was found.
pub fn rule_field_refs(
    set: &RuleSet,
    r: &RuleDef,
) -> Result<Vec<(String, Option<String>, String)>, String> {
    let mut out = Vec::new();
    let (checks, _) = set.expand(&r.condition)?;
    for c in checks {
        out.push((c.field, c.arg, format!("condition of {}", r.name)));
    }
    for e in &r.exceptions {
        for f in &e.fields {
            let (f, a) = split_field(f);
            out.push((
                f.to_owned(),
                a.map(str::to_owned),
                format!("exception {} of {}", e.name, r.name),
            ));
        }
    }
    for (f, a) in condition::output_fields(&r.output) {
        out.push((f, a, format!("output of {}", r.name)));
    }
    Ok(out)
}

/// A path relative to the repository, for messages.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(repo()).unwrap_or(p).display().to_string()
}
