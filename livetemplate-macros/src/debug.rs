//! `LIVETEMPLATE_MACROS_DEBUG=1`: print every expansion to stderr while compiling, and
//! the small token printer that lays expansions out one statement per line (also used
//! by the snapshot tests).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// The switch: set and neither empty nor `0`.
pub(crate) fn enabled() -> bool {
    std::env::var_os("LIVETEMPLATE_MACROS_DEBUG").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Print `tokens` as the expansion of `macro_name` when the switch is on.
pub(crate) fn print(macro_name: &str, tokens: &TokenStream) {
    if enabled() {
        eprintln!(
            "// ----- livetemplate-macros: expansion of {macro_name} -----\n{}",
            pretty(tokens)
        );
    }
}

/// Lay tokens out roughly as rustfmt would: a line per statement, item and match arm,
/// four-space indent inside braces, no spaces inside paths and generics. Only for
/// reading; the result is valid Rust but not rustfmt-exact.
pub(crate) fn pretty(tokens: &TokenStream) -> String {
    let mut printer = Printer {
        out: String::new(),
        depth: 0,
        nesting: 0,
        angles: 0,
        prev: Prev::Start,
    };
    printer.stream(tokens.clone());
    printer.newline();
    printer.out
}

/// What was printed last, as far as spacing cares.
#[derive(Clone, PartialEq)]
enum Prev {
    Start,
    Ident(String),
    Punct(char, Spacing),
    /// The second `:` of `::`.
    PathSep,
    /// The `>` of `->` or `=>`.
    Arrow,
    /// A lifetime's name.
    Lifetime,
    Open,
    Close,
    BraceClose,
    Literal,
}

/// What comes next.
enum Next {
    Ident,
    Punct(char),
    Open(char),
    BraceOpen,
    Literal,
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "const", "dyn", "else", "fn", "for", "if", "impl", "in", "let",
    "match", "move", "mut", "pub", "return", "static", "struct", "type", "unsafe", "use", "where",
    "while",
];

fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

struct Printer {
    out: String,
    depth: usize,
    /// Parentheses/brackets currently open: `;` and `,` break lines only outside them.
    nesting: usize,
    /// Generic angle brackets currently open (same purpose).
    angles: usize,
    prev: Prev,
}

impl Printer {
    fn newline(&mut self) {
        while self.out.ends_with(' ') {
            self.out.pop();
        }
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.prev = Prev::Start;
    }

    /// Write `text`, after a line break (following `}`), indentation or a space as needed.
    fn write(&mut self, next: Next, text: &str) {
        if self.prev == Prev::BraceClose
            && !matches!(next, Next::Punct(',' | ';' | '.' | '?' | ')'))
            && self.nesting == 0
        {
            self.newline();
        }
        if self.prev == Prev::Start {
            for _ in 0..self.depth {
                self.out.push_str("    ");
            }
        } else if space_between(&self.prev, &next) {
            self.out.push(' ');
        }
        self.out.push_str(text);
    }

    fn stream(&mut self, tokens: TokenStream) {
        for tree in tokens {
            self.tree(tree);
        }
    }

    fn tree(&mut self, tree: TokenTree) {
        match tree {
            TokenTree::Group(group) => match group.delimiter() {
                Delimiter::Brace => {
                    self.write(Next::BraceOpen, "{");
                    let saved = (self.nesting, self.angles);
                    (self.nesting, self.angles) = (0, 0);
                    self.depth += 1;
                    self.newline();
                    self.stream(group.stream());
                    self.depth -= 1;
                    self.newline();
                    (self.nesting, self.angles) = saved;
                    self.write(Next::Punct('}'), "}");
                    self.prev = Prev::BraceClose;
                }
                Delimiter::None => self.stream(group.stream()),
                delimiter => {
                    let (open, close) = if delimiter == Delimiter::Parenthesis {
                        ('(', ')')
                    } else {
                        ('[', ']')
                    };
                    let is_attribute =
                        self.prev == Prev::Punct('#', Spacing::Alone) && self.nesting == 0;
                    self.write(Next::Open(open), &open.to_string());
                    self.prev = Prev::Open;
                    self.nesting += 1;
                    self.stream(group.stream());
                    self.nesting -= 1;
                    if self.prev == Prev::BraceClose {
                        self.prev = Prev::Close;
                    }
                    self.out.push(close);
                    self.prev = Prev::Close;
                    if is_attribute {
                        self.newline();
                    }
                }
            },
            TokenTree::Ident(ident) => {
                let text = ident.to_string();
                let lifetime = self.prev == Prev::Punct('\'', Spacing::Joint);
                self.write(Next::Ident, &text);
                self.prev = if lifetime {
                    Prev::Lifetime
                } else {
                    Prev::Ident(text)
                };
            }
            TokenTree::Literal(literal) => {
                self.write(Next::Literal, &literal.to_string());
                self.prev = Prev::Literal;
            }
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                let after_joint = matches!(self.prev, Prev::Punct(_, Spacing::Joint));
                let path_sep = c == ':' && self.prev == Prev::Punct(':', Spacing::Joint);
                let arrow = c == '>' && matches!(self.prev, Prev::Punct('-' | '=', Spacing::Joint));
                self.write(Next::Punct(c), &c.to_string());
                self.prev = if path_sep {
                    Prev::PathSep
                } else if arrow {
                    Prev::Arrow
                } else {
                    Prev::Punct(c, punct.spacing())
                };
                if c == '<' && punct.spacing() == Spacing::Alone && !after_joint {
                    self.angles += 1;
                } else if c == '>' && !arrow && !after_joint && self.angles > 0 {
                    self.angles -= 1;
                }
                if matches!(c, ';' | ',') && self.nesting == 0 && self.angles == 0 {
                    self.newline();
                }
            }
        }
    }
}

fn space_between(prev: &Prev, next: &Next) -> bool {
    match prev {
        Prev::Start | Prev::Open | Prev::PathSep => return false,
        Prev::Arrow => return true,
        Prev::Lifetime => return !matches!(next, Next::Punct(',' | '>' | ';') | Next::Open(')')),
        Prev::Punct(_, Spacing::Joint) => return false,
        Prev::Punct('.' | '#' | '&' | '*' | '<' | '!', _) => return false,
        _ => {}
    }
    let after_word = |keyword_spaces: bool| match prev {
        Prev::Ident(word) => keyword_spaces && is_keyword(word),
        Prev::Close | Prev::Punct('>', _) => false,
        _ => true,
    };
    match next {
        Next::Punct(',' | ';' | '.' | '?' | '>' | ')') => false,
        Next::Punct(':') => after_word(true),
        Next::Punct('!') => !matches!(prev, Prev::Ident(_)),
        Next::Punct('<') => match prev {
            Prev::Ident(word) => is_keyword(word),
            _ => true,
        },
        Next::Open('(') => after_word(true),
        Next::Open(_) | Next::BraceOpen | Next::Ident | Next::Literal | Next::Punct(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn one_statement_per_line() {
        let tokens = quote! {
            impl A for B { fn f(&self) -> u8 { let x = 1; x } }
        };
        let text = pretty(&tokens);
        assert!(text.contains("let x = 1;\n"), "{text}");
        assert!(text.starts_with("impl A for B {\n"), "{text}");
        let reparsed: syn::File = syn::parse_str(&text).expect("pretty output is valid Rust");
        assert_eq!(reparsed.items.len(), 1);
    }
}
