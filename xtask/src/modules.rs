//! The "no module cycles" check `cargo xtask test` runs on every crate.
//!
//! Each `.rs` file under a crate's `src/` is a module; a module depends on
//! another when its code (comments and `#[cfg(test)] mod tests` left out)
//! names it by a `crate::a::b` or `super::…` path. A cycle between files
//! (a → b → … → a) fails the check with the files involved; a module naming
//! one of its own ancestors (a parent's re-export) is not a dependency.
//! Textual, like rust-analyzer's own "no cycles" test: cheap and strict.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::bail;

/// The crates whose modules must form no cycle.
pub const CRATES: [&str; 5] = [
    "src-core",
    "src-client",
    "src-server",
    "src-tauri",
    "src-ui",
];

/// Fails naming every cycle found in `crates` (folders under `root`).
pub fn check(root: &Path, crates: &[&str]) -> anyhow::Result<()> {
    let mut found = Vec::new();
    for krate in crates {
        for cycle in cycles(&root.join(krate).join("src"))? {
            found.push(format!("{krate}: {}", cycle.join(" → ")));
        }
    }
    if !found.is_empty() {
        bail!(
            "module cycles (a module may not depend on one that depends back on it):\n  {}",
            found.join("\n  ")
        );
    }
    eprintln!("xtask: no module cycles in {}", crates.join(", "));
    Ok(())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// `src/a/b.rs` and `src/a/b/mod.rs` → `["a", "b"]`; `lib.rs`/`main.rs` → `[]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main")
        || parts.last().is_some_and(|p| p == "mod")
    {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its unit tests.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The paths named after `crate::` and `super::` in `code`, as segments
/// relative to the crate root (`me` resolves `super`).
fn named_paths(code: &str, me: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !is_ident(bytes[i - 1]);
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        if starts_word && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let mut base: Vec<String> = if rest.starts_with("crate::") {
                i += 7;
                Vec::new()
            } else {
                // `super` is the parent of the module (a `mod.rs` is its
                // folder's module, so the same rule holds).
                let mut b = me.to_vec();
                while bytes[i..].iter().collect::<String>().starts_with("super::") {
                    b.pop();
                    i += 7;
                }
                b
            };
            loop {
                let start = i;
                while i < bytes.len() && is_ident(bytes[i]) {
                    i += 1;
                }
                if start == i {
                    break;
                }
                base.push(bytes[start..i].iter().collect());
                if bytes[i..].iter().take(2).collect::<String>() == "::" {
                    i += 2;
                } else {
                    break;
                }
            }
            out.push(base);
        } else {
            i += 1;
        }
    }
    out
}

/// Every cycle among the modules under `src`, each as a list of modules.
pub fn cycles(src: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let modules: BTreeMap<String, (Vec<String>, PathBuf)> = files
        .into_iter()
        .map(|f| {
            let m = module_path(src, &f);
            (m.join("::"), (m, f))
        })
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, (me, file)) in &modules {
        let code = code_of(&std::fs::read_to_string(file)?);
        for path in named_paths(&code, me) {
            // The longest prefix of the path that is a module file.
            let Some(target) = (1..=path.len())
                .rev()
                .map(|k| path[..k].join("::"))
                .find(|p| modules.contains_key(p))
            else {
                continue;
            };
            let ancestor = name.starts_with(&format!("{target}::"));
            if &target != name && !ancestor {
                edges.entry(name.clone()).or_default().insert(target);
            }
        }
    }
    Ok(strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect())
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(next) = s.edges.get(v) {
            for w in next {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            component.sort();
            s.out.push(component);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v.as_str());
        }
    }
    s.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_with(files: &[(&str, &str)]) -> tempdir::Dir {
        let dir = tempdir::Dir::new();
        for (name, text) in files {
            let path = dir.0.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicUsize, Ordering};
                static N: AtomicUsize = AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "xtask-modules-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Self(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn a_two_file_cycle_is_found() {
        let d = crate_with(&[
            ("lib.rs", "mod a; mod b;"),
            ("a.rs", "use crate::b::thing;"),
            ("b.rs", "pub fn thing() { crate::a::other() }"),
        ]);
        assert_eq!(
            cycles(&d.0).unwrap(),
            vec![vec!["a".to_owned(), "b".to_owned()]]
        );
    }

    #[test]
    fn super_paths_comments_tests_and_ancestors_do_not_count() {
        let d = crate_with(&[
            ("lib.rs", "pub mod a; pub use a::x::f;"),
            ("a/mod.rs", "pub mod x; pub mod y; // crate::b\n"),
            ("a/x.rs", "use super::y::g; pub fn f() {}"),
            (
                "a/y.rs",
                "pub fn g() {}\n#[cfg(test)]\nmod tests { use crate::a::x::f; }",
            ),
            (
                "b.rs",
                "/// [`crate::a::x`]\npub fn h() { crate::a::x::f() }",
            ),
        ]);
        assert!(cycles(&d.0).unwrap().is_empty());
    }

    #[test]
    fn a_longer_cycle_through_super_is_found() {
        let d = crate_with(&[
            ("lib.rs", "mod a; mod c;"),
            ("a/mod.rs", "mod b;"),
            ("a/b.rs", "use super::super::c;"),
            ("c.rs", "use crate::d::z;"),
            ("d.rs", "use crate::a::b::y;"),
        ]);
        assert_eq!(
            cycles(&d.0).unwrap(),
            vec![vec!["a::b".to_owned(), "c".to_owned(), "d".to_owned()]]
        );
    }
}
