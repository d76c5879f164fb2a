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

/// The name of the associated constant `#[controller]` generates for an action with
/// this primary name: SCREAMING_SNAKE_CASE, words split at anything that is not an ASCII
/// letter or digit and at lower-to-upper case changes (`refresh_counter`,
/// `refresh-counter`, `refreshCounter` and `RefreshCounter` all give `REFRESH_COUNTER`;
/// `HTTPStatus` gives `HTTP_STATUS`). A name without letters or digits gives `ACTION`,
/// one starting with a digit is prefixed with `ACTION_`.
pub(crate) fn const_name(primary: &str) -> String {
    let chars: Vec<char> = primary.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !word.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                words.push(std::mem::take(&mut word));
            }
        }
        word.push(c.to_ascii_uppercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    let name = words.join("_");
    if name.is_empty() {
        "ACTION".to_string()
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("ACTION_{name}")
    } else {
        name
    }
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
    fn constant_names() {
        for (primary, expected) in [
            ("refresh_counter", "REFRESH_COUNTER"),
            ("refresh-counter", "REFRESH_COUNTER"),
            ("refreshCounter", "REFRESH_COUNTER"),
            ("RefreshCounter", "REFRESH_COUNTER"),
            ("clear-done", "CLEAR_DONE"),
            ("increment", "INCREMENT"),
            ("HTTPStatus", "HTTP_STATUS"),
            ("load_more_2x", "LOAD_MORE_2X"),
            ("step2Go", "STEP2_GO"),
            ("_hidden", "HIDDEN"),
            ("a.b c", "A_B_C"),
            ("2fa", "ACTION_2FA"),
            ("--", "ACTION"),
        ] {
            assert_eq!(const_name(primary), expected, "{primary}");
        }
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
