//! Action names: the aliases derived from a method name, and the names the protocol
//! reserves.

/// Names the runtime handles before dispatch; an action with one of them could never run.
pub(crate) const RESERVED: &[&str] = &[
    "__navigate__",
    "__ping__",
    "upload_start",
    "upload_chunk",
    "upload_complete",
    "cancel_upload",
];

/// The four spellings a method name is reachable by, without duplicates, in this order:
/// as written (`clear_done`), kebab-case (`clear-done`), camelCase (`clearDone`),
/// PascalCase (`ClearDone`).
///
/// Words are the `_`-separated parts of the name; camelCase lowers the first letter of
/// the first word and upper-cases the first letter of every following word, PascalCase
/// upper-cases the first letter of every word. `increment` gives `increment` and
/// `Increment`.
pub(crate) fn method_aliases(method: &str) -> Vec<String> {
    let words: Vec<&str> = method.split('_').filter(|w| !w.is_empty()).collect();
    let kebab = method.replace('_', "-");
    let camel: String = words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                lower_first(w)
            } else {
                upper_first(w)
            }
        })
        .collect();
    let pascal: String = words.iter().map(|w| upper_first(w)).collect();
    let mut out: Vec<String> = Vec::with_capacity(4);
    for candidate in [method.to_string(), kebab, camel, pascal] {
        if !candidate.is_empty() && !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    out
}

fn upper_first(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn lower_first(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_words() {
        assert_eq!(
            method_aliases("clear_done"),
            ["clear_done", "clear-done", "clearDone", "ClearDone"]
        );
    }

    #[test]
    fn one_word() {
        assert_eq!(method_aliases("increment"), ["increment", "Increment"]);
    }

    #[test]
    fn three_words_and_digits() {
        assert_eq!(
            method_aliases("load_more_2x"),
            ["load_more_2x", "load-more-2x", "loadMore2x", "LoadMore2x"]
        );
    }

    #[test]
    fn leading_underscore_and_non_snake() {
        assert_eq!(
            method_aliases("_hidden"),
            ["_hidden", "-hidden", "hidden", "Hidden"]
        );
        assert_eq!(method_aliases("AddItem"), ["AddItem", "addItem"]);
    }
}
