//! Walking a key path through an audit event the way upstream does, arrays included.

use crate::json::{Kind, Value};

/// Which elements of the arrays met along a path are visited: the field's index argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// No argument: every element.
    All,
    /// `field[n]`: element `n` of every array met.
    At(usize),
    /// An index upstream turns into a negative Go `int` (other than -1): indexing a non-empty
    /// array with it panics there.
    Negative,
}

impl Index {
    pub fn from_arg(arg: Option<u64>) -> Index {
        match arg {
            None => Index::All,
            Some(n) => match i64::try_from(n) {
                Ok(n) => usize::try_from(n).map_or(Index::Negative, Index::At),
                // Upstream converts the argument to a Go `int`, where u64::MAX becomes -1,
                // its own "no index" marker.
                Err(_) if n == u64::MAX => Index::All,
                Err(_) => Index::Negative,
            },
        }
    }
}

/// Why a walk produced nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A key is missing before any array was iterated (upstream: "not available").
    Missing,
    /// Upstream would have failed (panicked) here: the field has no value.
    Fault,
}

/// Walks `keys` from `v`, calling `visit` with each value found at the end of the path.
///
/// As upstream: an array met *before* a key is iterated (every element, or only element `n`
/// with [`Index::At`]), nested arrays are flattened, and an element where the rest of the path
/// is missing is visited as `None`. The value at the end of the path is never iterated. An
/// empty key stands for the value itself. When the walk returns an error, `visit` has been
/// called with nothing that matters: the caller drops what it collected.
pub fn walk<'a>(
    mut v: Value<'a>,
    index: Index,
    keys: &[&str],
    visit: &mut dyn FnMut(Option<Value<'a>>),
) -> Result<(), Stop> {
    for (i, key) in keys.iter().enumerate() {
        if v.kind() == Kind::Array {
            match index {
                Index::All => {
                    for element in v.elements() {
                        match walk(element, index, &keys[i..], visit) {
                            Ok(()) => {}
                            Err(Stop::Missing) => visit(None),
                            Err(Stop::Fault) => return Err(Stop::Fault),
                        }
                    }
                    return Ok(());
                }
                Index::At(n) => v = v.elements().nth(n).ok_or(Stop::Missing)?,
                Index::Negative if v.elements().next().is_none() => return Err(Stop::Missing),
                Index::Negative => return Err(Stop::Fault),
            }
        }
        if !key.is_empty() {
            v = v.get(key).ok_or(Stop::Missing)?;
        }
    }
    visit(Some(v));
    Ok(())
}

/// Collects a walk's values (`None` for elements where the path is missing).
#[cfg(test)]
pub fn collect<'a>(
    v: Value<'a>,
    index: Index,
    keys: &[&str],
) -> Result<Vec<Option<Value<'a>>>, Stop> {
    let mut out = Vec::new();
    walk(v, index, keys, &mut |x| out.push(x))?;
    Ok(out)
}

/// The value at `keys` through objects only (upstream's `Get(keys...)`, whose keys never name
/// array positions here).
pub fn get<'a>(v: Value<'a>, keys: &[&str]) -> Option<Value<'a>> {
    keys.iter().try_fold(v, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Tape;

    fn walked(src: &str, index: Index, keys: &[&str]) -> Result<Vec<Option<String>>, Stop> {
        let mut tape = Tape::default();
        tape.parse(src.as_bytes()).unwrap();
        let root = tape.root(src.as_bytes()).unwrap();
        collect(root, index, keys).map(|vals| {
            vals.into_iter()
                .map(|v| v.map(|v| String::from_utf8(v.raw().to_vec()).unwrap()))
                .collect()
        })
    }

    fn some(v: &[&str]) -> Result<Vec<Option<String>>, Stop> {
        Ok(v.iter().map(|s| Some(s.to_string())).collect())
    }

    const POD: &str = r#"{"spec":{"containers":[{"name":"a"},{"image":"x"},{"name":"c"}]}}"#;

    #[test]
    fn iterates_intermediate_arrays_and_marks_missing_elements() {
        let got = walked(POD, Index::All, &["spec", "containers", "name"]).unwrap();
        assert_eq!(got, vec![Some("\"a\"".into()), None, Some("\"c\"".into())]);
    }

    #[test]
    fn an_index_picks_one_element() {
        assert_eq!(
            walked(POD, Index::At(2), &["spec", "containers", "name"]),
            some(&["\"c\""])
        );
        assert_eq!(
            walked(POD, Index::At(1), &["spec", "containers", "name"]),
            Err(Stop::Missing)
        );
        assert_eq!(
            walked(POD, Index::At(3), &["spec", "containers", "name"]),
            Err(Stop::Missing)
        );
    }

    #[test]
    fn the_array_at_the_end_of_the_path_is_not_iterated() {
        assert_eq!(
            walked(r#"{"p":[1,2]}"#, Index::All, &["p"]),
            some(&["[1,2]"])
        );
    }

    #[test]
    fn nested_arrays_are_flattened_without_an_index() {
        let src = r#"{"c":[[{"n":1},{"n":2}],{"n":3},[[{"x":0}]]]}"#;
        assert_eq!(
            walked(src, Index::All, &["c", "n"]),
            Ok(vec![
                Some("1".into()),
                Some("2".into()),
                Some("3".into()),
                None
            ])
        );
        // With an index, a nested array is not a container: the key is missing there.
        assert_eq!(walked(src, Index::At(0), &["c", "n"]), Err(Stop::Missing));
        assert_eq!(walked(src, Index::At(1), &["c", "n"]), some(&["3"]));
    }

    #[test]
    fn an_empty_key_keeps_the_value() {
        let src = r#"{"v":[{"a":1},"s"]}"#;
        assert_eq!(
            walked(src, Index::All, &["v", ""]),
            some(&["{\"a\":1}", "\"s\""])
        );
    }

    #[test]
    fn a_missing_key_before_any_array_is_missing() {
        assert_eq!(walked(POD, Index::All, &["nope", "x"]), Err(Stop::Missing));
        assert_eq!(
            walked(r#"{"spec":[]}"#, Index::All, &["spec", "x"]),
            Ok(vec![])
        );
    }

    #[test]
    fn negative_go_indexes_fault_on_non_empty_arrays() {
        assert_eq!(Index::from_arg(None), Index::All);
        assert_eq!(Index::from_arg(Some(4)), Index::At(4));
        assert_eq!(Index::from_arg(Some(u64::MAX)), Index::All);
        assert_eq!(Index::from_arg(Some(1 << 63)), Index::Negative);
        assert_eq!(
            walked(POD, Index::Negative, &["spec", "containers", "name"]),
            Err(Stop::Fault)
        );
        assert_eq!(
            walked(r#"{"c":[]}"#, Index::Negative, &["c", "n"]),
            Err(Stop::Missing)
        );
        assert_eq!(
            walked(r#"{"c":{"n":1}}"#, Index::Negative, &["c", "n"]),
            some(&["1"])
        );
    }

    #[test]
    fn get_follows_objects_only() {
        let src = r#"{"a":{"b":[{"c":1}]}}"#;
        let mut tape = Tape::default();
        tape.parse(src.as_bytes()).unwrap();
        let root = tape.root(src.as_bytes()).unwrap();
        assert_eq!(get(root, &["a", "b"]).unwrap().raw(), b"[{\"c\":1}]");
        assert!(get(root, &["a", "b", "c"]).is_none());
        assert!(get(root, &["a", "x"]).is_none());
        assert_eq!(get(root, &[]).unwrap().raw(), src.as_bytes());
    }
}
