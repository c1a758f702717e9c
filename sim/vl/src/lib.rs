//! The Verilator bridge: verilate a generated design at run time, compile it
//! with a small C++ shim into a shared library (cached by the hash of its
//! sources), load it, and drive its ports from Rust.
//!
//! The Verilator runtime itself is compiled once by this crate's `build.rs`
//! and linked into every design library.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::ffi::c_void;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const VLRT_LIB: &str = env!("PHASEGEN_VLRT_LIB");
const VERILATOR_ROOT: &str = env!("PHASEGEN_VERILATOR_ROOT");
const VERILATOR_VERSION: &str = env!("PHASEGEN_VERILATOR_VERSION");

/// A top-level port the shim exposes. Ports wider than 64 bits are set from
/// a 64-bit value, zero-extended, and read as their low 64 bits.
#[derive(Debug, Clone, PartialEq)]
pub struct Port {
    pub name: String,
    pub width: u32,
    pub output: bool,
}

/// What to build: sources, top module, ports.
#[derive(Debug, Clone)]
pub struct Design {
    pub sources: Vec<PathBuf>,
    pub top: String,
    pub ports: Vec<Port>,
    /// Name of the clock input toggled by [`Sim::tick`].
    pub clock: String,
}

/// A waveform format for [`Options::trace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trace {
    /// Value change dump: plain text, read by every viewer.
    Vcd,
    /// GTKWave's compressed format (needs zlib at link time).
    Fst,
}

impl Trace {
    /// The format a file name asks for: `.vcd` or `.fst`.
    pub fn for_path(path: &Path) -> Result<Trace> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("vcd") => Ok(Trace::Vcd),
            Some(e) if e.eq_ignore_ascii_case("fst") => Ok(Trace::Fst),
            _ => bail!(
                "cannot tell the waveform format of {}: name it *.vcd or *.fst",
                path.display()
            ),
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Trace::Vcd => "--trace",
            Trace::Fst => "--trace-fst",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Trace::Vcd => "VerilatedVcdC",
            Trace::Fst => "VerilatedFstC",
        }
    }

    fn runtime(self) -> &'static str {
        match self {
            Trace::Vcd => "verilated_vcd_c",
            Trace::Fst => "verilated_fst_c",
        }
    }
}

/// How to verilate a [`Design`] beyond its sources; the default is what
/// [`build`] does. Separate from `Design` so that existing `Design { .. }`
/// literals keep compiling.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// Preprocessor defines, `NAME` or `NAME=VALUE` (e.g. the switches a
    /// vendor cell library needs).
    pub defines: Vec<String>,
    /// Folders searched by `` `include ``.
    pub include_dirs: Vec<PathBuf>,
    /// Further Verilator arguments, e.g. `-Wno-UNOPTFLAT`.
    pub verilator_args: Vec<String>,
    /// Compile waveform tracing in; [`Sim::trace_to`] then opens a file.
    /// Off by default: a traced model is slower even when no file is open.
    pub trace: Option<Trace>,
    /// Compile the model so that [`Sim::new_random`] can start every
    /// register and memory bit without an initial value at a random one
    /// (Verilator's `--x-initial unique`), as silicon powers up, instead of
    /// zero. A netlist of standard cells (no power-on values) shows this
    /// way whether its reset really brings it into a known state.
    pub random_init: bool,
    /// Compile the model's C++ without optimization (`-O0` instead of
    /// `-O1`): a gate-level netlist of thousands of cells that runs a few
    /// thousand cycles builds about three times faster and runs slower.
    pub quick_compile: bool,
}

/// `verilator --version` of the Verilator this crate was built with.
pub fn verilator_version() -> &'static str {
    VERILATOR_VERSION
}

/// Where compiled designs are kept: `$PHASEGEN_CACHE/verilator`, or
/// `target/phasegen-cache/verilator` beside this workspace.
pub fn cache_dir() -> PathBuf {
    if let Ok(d) = std::env::var("PHASEGEN_CACHE") {
        return PathBuf::from(d).join("verilator");
    }
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/phasegen-cache/verilator"
    ))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| {
        format!("cannot start {what}: {cmd:?}; is it installed? (`make setup`)")
    })?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {cmd:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn ctype(width: u32) -> &'static str {
    match width {
        0..=8 => "CData",
        9..=16 => "SData",
        17..=32 => "IData",
        _ => "QData",
    }
}

fn shim(d: &Design, trace: Option<Trace>, random_init: bool) -> Result<String> {
    let cls = format!("V{}", d.top);
    let mut s = String::new();
    let _ = writeln!(s, "// phasegen Verilator shim for {}", d.top);
    let _ = writeln!(
        s,
        "#include \"{cls}.h\"\n#include \"verilated.h\"\n#include <cstdint>"
    );
    if let Some(t) = trace {
        let _ = writeln!(s, "#include \"{}.h\"", t.runtime());
    }
    let _ = writeln!(s, "double sc_time_stamp() {{ return 0; }}");
    // One simulation: its context, its model and, when tracing is compiled
    // in, the open waveform file and its time (10 units per clock cycle).
    let tfp = trace.map(|t| t.class()).unwrap_or("void");
    let _ = writeln!(
        s,
        "struct PgSim {{ VerilatedContext* c; {cls}* m; {tfp}* tfp; uint64_t t; }};"
    );
    let _ = writeln!(s, "extern \"C\" {{");
    let ever_on = if trace.is_some() {
        "c->traceEverOn(true); "
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "void* pg_new() {{ VerilatedContext* c = new VerilatedContext; {ever_on}return new PgSim{{c, new {cls}{{c, \"top\"}}, nullptr, 0}}; }}"
    );
    if random_init {
        // the model draws its initial values when it is constructed, so the
        // context's reset mode (2: random) and seed are set first
        let _ = writeln!(
            s,
            "void* pg_new_random(uint32_t seed) {{ VerilatedContext* c = new VerilatedContext; {ever_on}c->randReset(2); c->randSeed((int)seed); return new PgSim{{c, new {cls}{{c, \"top\"}}, nullptr, 0}}; }}"
        );
    }
    let close = if trace.is_some() {
        "if (s->tfp) { s->tfp->close(); delete s->tfp; } "
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "void pg_free(void* p) {{ PgSim* s = (PgSim*)p; s->m->final(); {close}delete s->m; delete s->c; delete s; }}"
    );
    let _ = writeln!(s, "void pg_eval(void* p) {{ ((PgSim*)p)->m->eval(); }}");
    let _ = writeln!(
        s,
        "void pg_set(void* p, int port, uint64_t v) {{\n  {cls}* m = ((PgSim*)p)->m;\n  switch (port) {{"
    );
    for (k, p) in d.ports.iter().enumerate() {
        if p.width > 64 && !p.output {
            // a wide input (VlWide, 32-bit words): the value, zero-extended
            let words = p.width.div_ceil(32);
            let _ = write!(s, "    case {k}: ");
            for w in 0..words {
                let v = match w {
                    0 => "(IData)v",
                    1 => "(IData)(v >> 32)",
                    _ => "0",
                };
                let _ = write!(s, "m->{}[{w}] = {v}; ", p.name);
            }
            let _ = writeln!(s, "break;");
        } else if !p.output {
            let _ = writeln!(
                s,
                "    case {k}: m->{} = ({})v; break;",
                p.name,
                ctype(p.width)
            );
        }
    }
    let _ = writeln!(s, "    default: break;\n  }}\n}}");
    let _ = writeln!(
        s,
        "uint64_t pg_get(void* p, int port) {{\n  {cls}* m = ((PgSim*)p)->m;\n  switch (port) {{"
    );
    for (k, p) in d.ports.iter().enumerate() {
        if p.width > 64 {
            let _ = writeln!(
                s,
                "    case {k}: return (uint64_t)m->{0}[0] | (uint64_t)m->{0}[1] << 32;",
                p.name
            );
        } else {
            let _ = writeln!(s, "    case {k}: return (uint64_t)m->{};", p.name);
        }
    }
    let _ = writeln!(s, "    default: return 0;\n  }}\n}}");
    let (dump_lo, dump_hi) = if trace.is_some() {
        (
            " if (s->tfp) s->tfp->dump(s->t); s->t += 5;",
            " if (s->tfp) s->tfp->dump(s->t); s->t += 5;",
        )
    } else {
        ("", "")
    };
    let _ = writeln!(
        s,
        "void pg_tick(void* p, uint64_t n) {{\n  PgSim* s = (PgSim*)p; {cls}* m = s->m;\n  for (uint64_t i = 0; i < n; i++) {{ m->{c} = 0; m->eval();{dump_lo} m->{c} = 1; m->eval();{dump_hi} }}\n}}",
        c = d.clock
    );
    if let Some(t) = trace {
        // 0 when the file opened; one file at a time
        let _ = writeln!(
            s,
            "int pg_trace_open(void* p, const char* path) {{\n  PgSim* s = (PgSim*)p;\n  if (s->tfp) {{ s->tfp->close(); delete s->tfp; }}\n  s->tfp = new {cls_t};\n  s->m->trace(s->tfp, 99);\n  s->tfp->open(path);\n  if (!s->tfp->isOpen()) {{ delete s->tfp; s->tfp = nullptr; return 1; }}\n  return 0;\n}}",
            cls_t = t.class()
        );
        let _ = writeln!(
            s,
            "void pg_trace_close(void* p) {{ PgSim* s = (PgSim*)p; if (s->tfp) {{ s->tfp->close(); delete s->tfp; s->tfp = nullptr; }} }}"
        );
    }
    let _ = writeln!(s, "}}");
    Ok(s)
}

/// A compiled design library on disk.
#[derive(Debug, Clone)]
pub struct Built {
    pub so: PathBuf,
    pub design: Design,
    pub options: Options,
}

/// Verilate and compile `d` (or reuse the cached library with the same hash).
pub fn build(d: &Design) -> Result<Built> {
    build_with(d, &Options::default())
}

/// [`build`] with [`Options`]: defines, include folders, Verilator
/// arguments, tracing.
pub fn build_with(d: &Design, o: &Options) -> Result<Built> {
    // one build at a time in this process: tests build in parallel threads,
    // and two compilers on a 2-core machine gain nothing
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let shim_src = shim(d, o.trace, o.random_init)?;
    let mut h = Sha256::new();
    h.update(VERILATOR_VERSION.as_bytes());
    h.update(VLRT_LIB.as_bytes());
    h.update(d.top.as_bytes());
    h.update(shim_src.as_bytes());
    for src in &d.sources {
        let text = std::fs::read(src)
            .with_context(|| format!("cannot read Verilog source {}", src.display()))?;
        h.update((text.len() as u64).to_le_bytes());
        h.update(&text);
    }
    if *o != Options::default() {
        h.update(format!("{o:?}").as_bytes());
        // what `include can pull in
        for dir in &o.include_dirs {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read include folder {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            for f in files {
                let text =
                    std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
                h.update((text.len() as u64).to_le_bytes());
                h.update(&text);
            }
        }
    }
    let key: String = h.finalize()[..10]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = cache_dir().join(format!("{}-{key}", d.top));
    let so = dir.join("design.so");
    if so.exists() {
        return Ok(Built {
            so,
            design: d.clone(),
            options: o.clone(),
        });
    }
    std::fs::create_dir_all(cache_dir())
        .with_context(|| format!("cannot create {}", cache_dir().display()))?;
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = cache_dir().join(format!("tmp-{key}-{}-{seq}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let mdir = tmp.join("obj");
    let mut v = Command::new(std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".into()));
    v.args([
        "--cc",
        "-O3",
        "--x-assign",
        "fast",
        "--x-initial",
        if o.random_init { "unique" } else { "fast" },
        "-Wno-fatal",
    ])
    .args(["--top-module", &d.top])
    .arg("--Mdir")
    .arg(&mdir);
    for def in &o.defines {
        v.arg(format!("-D{def}"));
    }
    for dir in &o.include_dirs {
        v.arg(format!("-I{}", dir.display()));
    }
    if let Some(t) = o.trace {
        v.arg(t.flag());
    }
    v.args(&o.verilator_args).args(&d.sources);
    run(&mut v, "verilator")?;
    std::fs::write(tmp.join("shim.cpp"), &shim_src)?;
    let mut cpps: Vec<PathBuf> = std::fs::read_dir(&mdir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cpp"))
        .collect();
    cpps.sort();
    cpps.push(tmp.join("shim.cpp"));
    // compile the objects two at a time (this machine class has 2 cores)
    let inc = Path::new(VERILATOR_ROOT).join("include");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let trace_defs = trace_defines(o.trace);
    let compile = |src: &Path| -> Result<PathBuf> {
        let obj = src.with_extension("o");
        let mut c = Command::new(&cxx);
        c.args(["-c", if o.quick_compile { "-O0" } else { "-O1" }])
            .args(["-fPIC", "-std=c++17", "-faligned-new", "-w"])
            .args(["-DVM_COVERAGE=0", "-DVM_SC=0"])
            .args(&trace_defs)
            .arg("-I")
            .arg(&mdir)
            .arg("-I")
            .arg(&inc)
            .arg("-I")
            .arg(inc.join("vltstd"))
            .arg(src)
            .arg("-o")
            .arg(&obj);
        run(&mut c, "the C++ compiler")?;
        Ok(obj)
    };
    let mut objs = Vec::new();
    for pair in cpps.chunks(2) {
        let res: Vec<Result<PathBuf>> = std::thread::scope(|s| {
            let hs: Vec<_> = pair.iter().map(|p| s.spawn(|| compile(p))).collect();
            hs.into_iter()
                .map(|h| h.join().expect("compile thread"))
                .collect()
        });
        for r in res {
            objs.push(r?);
        }
    }
    if let Some(t) = o.trace {
        objs.push(trace_runtime(t)?);
    }
    let mut l = Command::new(&cxx);
    l.arg("-shared")
        .arg("-o")
        .arg(tmp.join("design.so"))
        .args(&objs)
        .arg(VLRT_LIB)
        .arg("-pthread");
    if o.trace == Some(Trace::Fst) {
        l.arg("-lz");
    }
    run(&mut l, "the linker")?;
    // publish atomically; a concurrent build of the same key may win
    if std::fs::rename(&tmp, &dir).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        if !so.exists() {
            bail!("cannot move the compiled design into {}", dir.display());
        }
    }
    Ok(Built {
        so,
        design: d.clone(),
        options: o.clone(),
    })
}

fn trace_defines(t: Option<Trace>) -> Vec<String> {
    let (on, vcd, fst) = match t {
        None => (0, 0, 0),
        Some(Trace::Vcd) => (1, 1, 0),
        Some(Trace::Fst) => (1, 0, 1),
    };
    vec![
        format!("-DVM_TRACE={on}"),
        format!("-DVM_TRACE_VCD={vcd}"),
        format!("-DVM_TRACE_FST={fst}"),
    ]
}

/// The Verilator trace writer for `t`, compiled once into the cache (the
/// runtime `build.rs` makes has none, so untraced designs carry no writer).
fn trace_runtime(t: Trace) -> Result<PathBuf> {
    let mut h = Sha256::new();
    h.update(VERILATOR_VERSION.as_bytes());
    h.update(VERILATOR_ROOT.as_bytes());
    let key: String = h.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let obj = cache_dir().join(format!("{}-{key}.o", t.runtime()));
    if obj.exists() {
        return Ok(obj);
    }
    std::fs::create_dir_all(cache_dir())
        .with_context(|| format!("cannot create {}", cache_dir().display()))?;
    let inc = Path::new(VERILATOR_ROOT).join("include");
    let tmp = obj.with_extension(format!("o.tmp{}", std::process::id()));
    let mut c = Command::new(std::env::var("CXX").unwrap_or_else(|_| "g++".into()));
    c.args(["-c", "-O2", "-fPIC", "-std=c++17", "-faligned-new", "-w"])
        .args(["-DVM_COVERAGE=0", "-DVM_SC=0"])
        .args(trace_defines(Some(t)))
        .arg("-I")
        .arg(&inc)
        .arg("-I")
        .arg(inc.join("vltstd"))
        .arg(inc.join(format!("{}.cpp", t.runtime())))
        .arg("-o")
        .arg(&tmp);
    run(
        &mut c,
        "the C++ compiler (trace writer; FST needs zlib: Debian zlib1g-dev)",
    )?;
    std::fs::rename(&tmp, &obj).with_context(|| format!("cannot write {}", obj.display()))?;
    Ok(obj)
}

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type NewRandomFn = unsafe extern "C" fn(u32) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type EvalFn = unsafe extern "C" fn(*mut c_void);
type SetFn = unsafe extern "C" fn(*mut c_void, i32, u64);
type GetFn = unsafe extern "C" fn(*mut c_void, i32) -> u64;
type TickFn = unsafe extern "C" fn(*mut c_void, u64);
type TraceOpenFn = unsafe extern "C" fn(*mut c_void, *const std::ffi::c_char) -> i32;
type TraceCloseFn = unsafe extern "C" fn(*mut c_void);

/// A running simulation of one design instance.
pub struct Sim {
    _lib: libloading::Library,
    h: *mut c_void,
    free: FreeFn,
    eval: EvalFn,
    set: SetFn,
    get: GetFn,
    tick: TickFn,
    trace: Option<(TraceOpenFn, TraceCloseFn)>,
    ports: Vec<Port>,
    /// Rising clock edges so far.
    pub cycles: u64,
}

// The model is owned by this value alone; moving it to another thread is safe.
unsafe impl Send for Sim {}

impl Sim {
    pub fn new(b: &Built) -> Result<Sim> {
        Sim::open(b, None)
    }

    /// A simulation whose registers and memories without an initial value
    /// start at random values drawn from `seed`, as in silicon after power-up
    /// (the design must be built with [`Options::random_init`]).
    pub fn new_random(b: &Built, seed: u32) -> Result<Sim> {
        if !b.options.random_init {
            bail!(
                "{}: built without Options::random_init, so its power-up state cannot be randomized",
                b.design.top
            );
        }
        Sim::open(b, Some(seed))
    }

    fn open(b: &Built, seed: Option<u32>) -> Result<Sim> {
        // SAFETY: the library was built by `build` from our shim, whose
        // exported symbols have exactly these signatures.
        unsafe {
            let lib = libloading::Library::new(&b.so)
                .with_context(|| format!("cannot load {}", b.so.display()))?;
            let newf: NewFn = *lib.get::<NewFn>(b"pg_new")?;
            let free: FreeFn = *lib.get::<FreeFn>(b"pg_free")?;
            let eval: EvalFn = *lib.get::<EvalFn>(b"pg_eval")?;
            let set: SetFn = *lib.get::<SetFn>(b"pg_set")?;
            let get: GetFn = *lib.get::<GetFn>(b"pg_get")?;
            let tick: TickFn = *lib.get::<TickFn>(b"pg_tick")?;
            let trace = match b.options.trace {
                Some(_) => Some((
                    *lib.get::<TraceOpenFn>(b"pg_trace_open")?,
                    *lib.get::<TraceCloseFn>(b"pg_trace_close")?,
                )),
                None => None,
            };
            let h = match seed {
                Some(seed) => (*lib.get::<NewRandomFn>(b"pg_new_random")?)(seed),
                None => newf(),
            };
            Ok(Sim {
                _lib: lib,
                h,
                free,
                eval,
                set,
                get,
                tick,
                trace,
                ports: b.design.ports.clone(),
                cycles: 0,
            })
        }
    }

    /// Start writing a waveform of every signal to `path` (the format the
    /// design was built with, [`Options::trace`]); one clock cycle is 10
    /// time units. A file already open is closed first.
    pub fn trace_to(&mut self, path: &Path) -> Result<()> {
        let Some((open, _)) = self.trace else {
            bail!(
                "cannot write {}: the design was built without tracing (Options::trace)",
                path.display()
            );
        };
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .with_context(|| format!("bad waveform path {}", path.display()))?;
        // SAFETY: h is a live model; c outlives the call.
        if unsafe { open(self.h, c.as_ptr()) } != 0 {
            bail!("cannot open the waveform file {}", path.display());
        }
        Ok(())
    }

    /// Flush and close the waveform file, if one is open (dropping the
    /// simulation does this too).
    pub fn trace_close(&mut self) {
        if let Some((_, close)) = self.trace {
            // SAFETY: h is a live model.
            unsafe { close(self.h) }
        }
    }

    /// The index of a port, for the fast `set_i` / `get_i`.
    pub fn port(&self, name: &str) -> Result<usize> {
        self.ports
            .iter()
            .position(|p| p.name == name)
            .with_context(|| format!("the design has no port `{name}`"))
    }

    pub fn set_i(&mut self, port: usize, v: u64) {
        let w = self.ports[port].width;
        debug_assert!(!self.ports[port].output);
        let v = if w >= 64 { v } else { v & ((1u64 << w) - 1) };
        // SAFETY: h is a live model; port is in range.
        unsafe { (self.set)(self.h, port as i32, v) }
    }

    pub fn get_i(&self, port: usize) -> u64 {
        // SAFETY: as above.
        unsafe { (self.get)(self.h, port as i32) }
    }

    pub fn set(&mut self, name: &str, v: u64) -> Result<()> {
        let p = self.port(name)?;
        if self.ports[p].output {
            bail!("port `{name}` is an output");
        }
        self.set_i(p, v);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Result<u64> {
        Ok(self.get_i(self.port(name)?))
    }

    pub fn eval(&mut self) {
        // SAFETY: h is a live model.
        unsafe { (self.eval)(self.h) }
    }

    /// `n` full clock cycles (low, eval, high, eval).
    pub fn tick(&mut self, n: u64) {
        // SAFETY: h is a live model.
        unsafe { (self.tick)(self.h, n) }
        self.cycles += n;
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: h was made by pg_new and is freed once.
        unsafe { (self.free)(self.h) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(dir: &Path) -> Design {
        std::fs::create_dir_all(dir).unwrap();
        let src = dir.join("cnt.v");
        std::fs::write(
            &src,
            "module cnt(input wire i_clk, input wire i_rst, input wire [7:0] i_inc, output reg [15:0] o_n);\n\
             always @(posedge i_clk) if (i_rst) o_n <= 0; else o_n <= o_n + {8'h0, i_inc};\nendmodule\n",
        )
        .unwrap();
        let port = |name: &str, width, output| Port {
            name: name.into(),
            width,
            output,
        };
        Design {
            sources: vec![src],
            top: "cnt".into(),
            ports: vec![
                port("i_clk", 1, false),
                port("i_rst", 1, false),
                port("i_inc", 8, false),
                port("o_n", 16, true),
            ],
            clock: "i_clk".into(),
        }
    }

    fn count(s: &mut Sim) {
        s.set("i_rst", 1).unwrap();
        s.tick(1);
        s.set("i_rst", 0).unwrap();
        s.set("i_inc", 3).unwrap();
        s.tick(10);
        assert_eq!(s.get("o_n").unwrap(), 30);
    }

    #[test]
    fn counter_runs() {
        let dir = std::env::temp_dir().join(format!("pg-vl-{}", std::process::id()));
        let b = build(&counter(&dir)).unwrap();
        let mut s = Sim::new(&b).unwrap();
        count(&mut s);
        assert!(s.set("o_n", 1).is_err());
        assert!(s.get("nope").is_err());
        let err = s.trace_to(&dir.join("x.vcd")).unwrap_err().to_string();
        assert!(err.contains("without tracing"), "{err}");
        std::fs::remove_dir_all(dir).ok();
    }

    /// Without a reset the counter starts where power-up left it: zero by
    /// default, a random value with `random_init` (the same for the same
    /// seed, another for another seed); the reset clears it either way.
    #[test]
    fn random_init_starts_registers_at_random() {
        let dir = std::env::temp_dir().join(format!("pg-vl-rand-{}", std::process::id()));
        let d = counter(&dir);
        let plain = build(&d).unwrap();
        assert_eq!(Sim::new(&plain).unwrap().get("o_n").unwrap(), 0);
        let e = Sim::new_random(&plain, 1).err().unwrap().to_string();
        assert!(e.contains("built without Options::random_init"), "{e}");
        let b = build_with(
            &d,
            &Options {
                random_init: true,
                ..Options::default()
            },
        )
        .unwrap();
        let first = |seed: u32| -> u64 {
            let mut s = Sim::new_random(&b, seed).unwrap();
            let v = s.get("o_n").unwrap();
            count(&mut s);
            v
        };
        let a = first(1);
        assert_eq!(first(1), a, "same seed, same power-up state");
        let others: Vec<u64> = (2..6).map(first).collect();
        assert!(
            others.iter().any(|&b| b != a) && others.iter().chain([&a]).any(|&b| b != 0),
            "power-up states {a} and {others:?} are not random"
        );
        assert_eq!(Sim::new(&b).unwrap().get("o_n").unwrap(), 0);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn counter_writes_vcd_and_fst() {
        let dir = std::env::temp_dir().join(format!("pg-vl-trace-{}", std::process::id()));
        let d = counter(&dir);
        for (t, name) in [(Trace::Vcd, "cnt.vcd"), (Trace::Fst, "cnt.fst")] {
            let path = dir.join(name);
            assert_eq!(Trace::for_path(&path).unwrap(), t);
            let b = build_with(
                &d,
                &Options {
                    trace: Some(t),
                    ..Options::default()
                },
            )
            .unwrap();
            let mut s = Sim::new(&b).unwrap();
            s.trace_to(&path).unwrap();
            count(&mut s);
            s.trace_close();
            let bytes = std::fs::read(&path).unwrap();
            match t {
                Trace::Vcd => {
                    let text = String::from_utf8_lossy(&bytes);
                    for want in ["$enddefinitions", " o_n ", " i_clk ", "#105"] {
                        assert!(text.contains(want), "no `{want}` in the VCD:\n{text}");
                    }
                }
                // FST opens with a header block (type 0) and names the signals
                // in a compressed hierarchy block; check it is not empty.
                Trace::Fst => assert!(bytes.len() > 100 && bytes[0] == 0, "{} bytes", bytes.len()),
            }
        }
        assert!(Trace::for_path(Path::new("w.txt")).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}
