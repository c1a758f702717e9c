//! The code's layout keeps its promises (docs/architecture.md):
//!
//! - no file of `phasegen-sim`, `phasegen-hdl` or the `phasegen` library
//!   imports a file that imports it back (directly or around a longer loop);
//! - the data flow of `phasegen-sim` is one-way: `rng` <- `board` <-
//!   `config`, `data` <- `onn` <- `twin` <- `link`, `onn` <- `reduce`, and
//!   `r2nn` stands apart (it uses `rng` only); nothing lower imports from
//!   higher;
//! - `sw/src/main.rs` only parses and dispatches.
//!
//! Imports are read from the text: every `crate::a::b` or `super::x` path
//! (including `use crate::{a, b::c}` groups) outside `#[cfg(test)]` modules
//! and comments, resolved to the longest module path that is a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

type Mod = Vec<String>;

/// Every `.rs` file under `src`, by module path (`twin/mod.rs` is `[twin]`).
fn modules(src: &Path) -> BTreeMap<Mod, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut m: Mod = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(m.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                m.pop();
            }
            (m, p)
        })
        .collect()
}

/// The text without comments and without `#[cfg(test)]` items (a test
/// module may import anything its tests need).
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let l = match line.find("//") {
            Some(k) => &line[..k],
            None => line,
        };
        out.push_str(l);
        out.push('\n');
    }
    // drop each `#[cfg(test)]` item: up to its matching closing brace (or
    // its semicolon, for a `mod tests;` or a single `use`)
    while let Some(k) = out.find("#[cfg(test)]") {
        let rest = &out[k..];
        let brace = rest.find('{');
        let semi = rest.find(';');
        let end = match (brace, semi) {
            (Some(b), Some(s)) if s < b => k + s + 1,
            (Some(b), _) => {
                let mut depth = 0;
                let mut end = out.len();
                for (i, c) in rest[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = k + b + i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                end
            }
            (None, Some(s)) => k + s + 1,
            (None, None) => out.len(),
        };
        out.replace_range(k..end, "");
    }
    out
}

/// The longest prefix of `path` that is a module.
fn resolve(path: &[String], mods: &BTreeMap<Mod, PathBuf>) -> Option<Mod> {
    (1..=path.len())
        .rev()
        .map(|k| path[..k].to_vec())
        .find(|m| mods.contains_key(m))
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The modules `m` imports.
fn imports(m: &Mod, file: &Path, mods: &BTreeMap<Mod, PathBuf>) -> BTreeSet<Mod> {
    let text = code(&std::fs::read_to_string(file).unwrap());
    let is_mod_rs = matches!(
        file.file_stem().and_then(|s| s.to_str()),
        Some("mod" | "lib" | "main")
    );
    // the module `super` names, seen from this file
    let parent: Mod = if is_mod_rs {
        m[..m.len().saturating_sub(1)].to_vec()
    } else {
        m[..m.len() - 1].to_vec()
    };
    let selfm: Mod = m.clone();
    let mut out = BTreeSet::new();
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let start_ok = i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != ':';
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let base = if !start_ok {
            None
        } else if rest.starts_with("crate::") {
            i += 7;
            Some(Vec::new())
        } else if rest.starts_with("super::") {
            i += 7;
            Some(parent.clone())
        } else if rest.starts_with("self::") {
            i += 6;
            Some(selfm.clone())
        } else {
            None
        };
        let Some(mut base) = base else {
            i += 1;
            continue;
        };
        // `super::super::x`
        while bytes[i..].iter().collect::<String>().starts_with("super::") {
            base.pop();
            i += 7;
        }
        // the path: idents separated by `::`, maybe ending in a `{...}` group
        let mut path = base.clone();
        loop {
            let s = i;
            while i < bytes.len() && is_ident(bytes[i]) {
                i += 1;
            }
            if s == i {
                break;
            }
            path.push(bytes[s..i].iter().collect());
            if bytes[i..].iter().take(2).collect::<String>() == "::" {
                i += 2;
                if i < bytes.len() && bytes[i] == '{' {
                    // a group: each member's first segment
                    let end = bytes[i..].iter().position(|&c| c == '}').unwrap() + i;
                    let group: String = bytes[i + 1..end].iter().collect();
                    for member in group.split(',') {
                        let first: String = member
                            .trim()
                            .chars()
                            .take_while(|&c| is_ident(c) || c == ':')
                            .collect();
                        let mut p = path.clone();
                        p.extend(
                            first
                                .split("::")
                                .filter(|s| !s.is_empty())
                                .map(String::from),
                        );
                        if let Some(t) = resolve(&p, mods) {
                            out.insert(t);
                        }
                    }
                    i = end;
                    break;
                }
            } else {
                break;
            }
        }
        if let Some(t) = resolve(&path, mods) {
            out.insert(t);
        }
    }
    out.remove(m);
    out
}

fn graph(src: &str) -> BTreeMap<Mod, BTreeSet<Mod>> {
    let src = Path::new(ROOT).join(src);
    let mods = modules(&src);
    mods.iter()
        .map(|(m, f)| (m.clone(), imports(m, f, &mods)))
        .collect()
}

fn name(m: &Mod) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("/")
    }
}

/// Every set of two or more modules that import each other around a loop
/// (Tarjan's strongly connected components).
fn cycles(g: &BTreeMap<Mod, BTreeSet<Mod>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<Mod, BTreeSet<Mod>>,
        index: BTreeMap<&'a Mod, usize>,
        low: BTreeMap<&'a Mod, usize>,
        stack: Vec<&'a Mod>,
        on: BTreeSet<&'a Mod>,
        out: Vec<Vec<String>>,
    }
    fn go<'a>(t: &mut T<'a>, v: &'a Mod) {
        let k = t.index.len();
        t.index.insert(v, k);
        t.low.insert(v, k);
        t.stack.push(v);
        t.on.insert(v);
        for w in &t.g[v] {
            if !t.index.contains_key(w) {
                go(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on.remove(w);
                comp.push(name(w));
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            go(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    for src in ["sim/src", "hdl/src", "sw/src", "sim/vl/src"] {
        let g = graph(src);
        let c = cycles(&g);
        assert!(c.is_empty(), "import cycles in {src}: {c:?}");
    }
}

/// What each domain of `phasegen-sim` may import besides itself.
const ALLOWED: &[(&str, &[&str])] = &[
    ("rng", &[]),
    ("board", &["rng"]),
    ("config", &["board", "rng"]),
    ("data", &["rng"]),
    ("onn", &["config", "data", "board", "rng"]),
    ("twin", &["onn", "config", "data", "board", "rng"]),
    ("link", &["twin", "onn", "config", "data", "board", "rng"]),
    ("r2nn", &["rng"]),
    ("reduce", &["onn", "config", "data", "board", "rng"]),
];

#[test]
fn the_model_crate_imports_one_way() {
    let g = graph("sim/src");
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut bad = Vec::new();
    for (m, deps) in &g {
        let Some(dom) = m.first() else { continue }; // lib.rs declares them all
        let ok = allowed.get(dom.as_str()).unwrap_or_else(|| {
            panic!("sim/src/{dom} is in no domain; add it to ALLOWED and docs/architecture.md")
        });
        for d in deps {
            let Some(to) = d.first() else {
                bad.push(format!("{} -> the crate root", name(m)));
                continue;
            };
            if to != dom && !ok.contains(&to.as_str()) {
                bad.push(format!("{} -> {}", name(m), name(d)));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the data flow (docs/architecture.md): {bad:#?}"
    );
}

#[test]
fn the_checker_sees_cycles_and_upward_imports() {
    // the checker itself, on a made-up pair of files, must be able to fail
    let dir = std::env::temp_dir().join(format!("pg-layout-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("onn")).unwrap();
    std::fs::write(dir.join("lib.rs"), "pub mod onn;\npub mod twin;\n").unwrap();
    std::fs::write(dir.join("onn/mod.rs"), "pub mod a;\n").unwrap();
    std::fs::write(
        dir.join("onn/a.rs"),
        "use crate::twin::{X, Y};\n#[cfg(test)]\nmod tests { use super::*; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("twin.rs"),
        "// crate::nothing here\npub fn f() { crate::onn::a::g() }\n",
    )
    .unwrap();
    let mods = modules(&dir);
    let g: BTreeMap<Mod, BTreeSet<Mod>> = mods
        .iter()
        .map(|(m, f)| (m.clone(), imports(m, f, &mods)))
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    let a: Mod = vec!["onn".into(), "a".into()];
    let t: Mod = vec!["twin".into()];
    assert_eq!(g[&a], BTreeSet::from([t.clone()]));
    assert_eq!(g[&t], BTreeSet::from([a.clone()]));
    assert_eq!(
        cycles(&g),
        vec![vec!["onn/a".to_string(), "twin".to_string()]]
    );
}

#[test]
fn main_only_parses_and_dispatches() {
    let main = std::fs::read_to_string(Path::new(ROOT).join("sw/src/main.rs")).unwrap();
    let n = main.lines().count();
    assert!(
        n < 150,
        "sw/src/main.rs has {n} lines; commands belong in sw/src/cmd/<command>.rs"
    );
}
