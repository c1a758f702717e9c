//! A small Verilog-2005 emitter whose expressions carry their width and
//! signedness, checked in Rust when the expression is built.
//!
//! The rules are strict on purpose, so the output is clean under
//! `verilator -Wall`: `+ - & | ^` and comparisons need equal widths and
//! signedness, products have the sum of the widths, and every widening is an
//! explicit sign or zero extension. A width error is a generator bug and
//! panics with both widths named.

use std::fmt::Write;
use std::rc::Rc;

/// Names the simulators and synthesizers reserve (Verilog-2005 and the
/// SystemVerilog words Verilator rejects as identifiers).
const KEYWORDS: &[&str] = &[
    "always",
    "and",
    "assign",
    "begin",
    "bit",
    "buf",
    "byte",
    "case",
    "casex",
    "casez",
    "class",
    "const",
    "default",
    "disable",
    "do",
    "edge",
    "else",
    "end",
    "endcase",
    "endfunction",
    "endmodule",
    "enum",
    "event",
    "final",
    "for",
    "force",
    "function",
    "generate",
    "genvar",
    "if",
    "initial",
    "inout",
    "input",
    "int",
    "integer",
    "interface",
    "logic",
    "longint",
    "module",
    "nand",
    "negedge",
    "new",
    "nor",
    "not",
    "null",
    "or",
    "output",
    "package",
    "parameter",
    "posedge",
    "priority",
    "program",
    "real",
    "reg",
    "repeat",
    "return",
    "shortint",
    "signed",
    "static",
    "string",
    "struct",
    "super",
    "table",
    "task",
    "this",
    "time",
    "type",
    "unique",
    "unsigned",
    "var",
    "virtual",
    "void",
    "wait",
    "while",
    "wire",
    "xor",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Sig {
    name: Rc<str>,
    pub width: u32,
    pub signed: bool,
}

impl Sig {
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn e(&self) -> Expr {
        Expr::Sig(self.clone())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mem {
    name: Rc<str>,
    pub width: u32,
    pub depth: usize,
    pub addr_bits: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LAnd,
    LOr,
}

impl BinOp {
    fn text(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            And => "&",
            Or => "|",
            Xor => "^",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            LAnd => "&&",
            LOr => "||",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Sig(Sig),
    Const {
        width: u32,
        signed: bool,
        bits: u64,
    },
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `s[hi:lo]` of a named signal (unsigned result).
    Slice(Sig, u32, u32),
    Concat(Vec<Expr>),
    /// Sign extension of a named signed signal to a wider width.
    SExt(Sig, u32),
    /// Zero extension to a wider width (unsigned result).
    ZExt(Box<Expr>, u32),
    /// Reinterpret as signed / unsigned (same width).
    AsSigned(Box<Expr>),
    AsUnsigned(Box<Expr>),
    Mux(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Reduction OR (1 bit).
    RedOr(Box<Expr>),
    /// `m[a]`, only inside a registered read.
    MemRead(Mem, Box<Expr>),
    /// `s[i]` with a variable index (1 bit).
    Index(Sig, Box<Expr>),
}

fn mask(w: u32) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1u64 << w) - 1
    }
}

// Named methods rather than `std::ops` operators: each one checks widths and
// panics on a mismatch, which an innocent-looking `+` would hide.
#[allow(clippy::should_implement_trait)]
impl Expr {
    pub fn width(&self) -> u32 {
        match self {
            Expr::Sig(s) => s.width,
            Expr::Const { width, .. } => *width,
            Expr::Not(a) | Expr::Neg(a) | Expr::AsSigned(a) | Expr::AsUnsigned(a) => a.width(),
            Expr::Bin(op, a, b) => match op {
                BinOp::Mul => a.width() + b.width(),
                BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::LAnd
                | BinOp::LOr => 1,
                _ => a.width(),
            },
            Expr::Slice(_, hi, lo) => hi - lo + 1,
            Expr::Concat(v) => v.iter().map(|e| e.width()).sum(),
            Expr::SExt(_, w) | Expr::ZExt(_, w) => *w,
            Expr::Mux(_, a, _) => a.width(),
            Expr::RedOr(_) => 1,
            Expr::MemRead(m, _) => m.width,
            Expr::Index(..) => 1,
        }
    }

    pub fn signed(&self) -> bool {
        match self {
            Expr::Sig(s) => s.signed,
            Expr::Const { signed, .. } => *signed,
            Expr::Not(a) | Expr::Neg(a) => a.signed(),
            Expr::Bin(
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::And | BinOp::Or | BinOp::Xor,
                a,
                _,
            ) => a.signed(),
            Expr::SExt(..) | Expr::AsSigned(_) => true,
            Expr::Mux(_, a, _) => a.signed(),
            _ => false,
        }
    }

    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        let logical = matches!(op, BinOp::LAnd | BinOp::LOr);
        if logical {
            assert!(
                a.width() == 1 && b.width() == 1,
                "{} needs 1-bit operands, got {} and {}",
                op.text(),
                a.width(),
                b.width()
            );
        } else {
            assert_eq!(
                a.signed(),
                b.signed(),
                "operands of {} differ in signedness: {} vs {}",
                op.text(),
                a.render(),
                b.render()
            );
            if op != BinOp::Mul {
                assert_eq!(
                    a.width(),
                    b.width(),
                    "operands of {} differ in width: {} ({} bits) vs {} ({} bits)",
                    op.text(),
                    a.render(),
                    a.width(),
                    b.render(),
                    b.width()
                );
            }
        }
        Expr::Bin(op, Box::new(a), Box::new(b))
    }

    pub fn add(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Add, self, b)
    }
    pub fn sub(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Sub, self, b)
    }
    /// Full product: width is the sum of the operand widths.
    pub fn mul(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Mul, self, b)
    }
    pub fn and(self, b: Expr) -> Expr {
        Expr::bin(BinOp::And, self, b)
    }
    pub fn or(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Or, self, b)
    }
    pub fn xor(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Xor, self, b)
    }
    pub fn eq(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Eq, self, b)
    }
    pub fn ne(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Ne, self, b)
    }
    pub fn lt(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Lt, self, b)
    }
    pub fn le(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Le, self, b)
    }
    pub fn gt(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Gt, self, b)
    }
    pub fn ge(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Ge, self, b)
    }
    pub fn land(self, b: Expr) -> Expr {
        Expr::bin(BinOp::LAnd, self, b)
    }
    pub fn lor(self, b: Expr) -> Expr {
        Expr::bin(BinOp::LOr, self, b)
    }
    pub fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
    pub fn neg(self) -> Expr {
        Expr::Neg(Box::new(self))
    }
    pub fn red_or(self) -> Expr {
        Expr::RedOr(Box::new(self))
    }
    pub fn as_signed(self) -> Expr {
        Expr::AsSigned(Box::new(self))
    }
    pub fn as_unsigned(self) -> Expr {
        Expr::AsUnsigned(Box::new(self))
    }
    /// Zero-extend (or keep) an unsigned expression to `w` bits.
    pub fn zext(self, w: u32) -> Expr {
        assert!(
            !self.signed(),
            "zext of a signed expression {}",
            self.render()
        );
        assert!(
            w >= self.width(),
            "zext to {w} bits of a {}-bit expression",
            self.width()
        );
        if w == self.width() {
            self
        } else {
            Expr::ZExt(Box::new(self), w)
        }
    }
    /// `c ? a : b`.
    pub fn mux(c: Expr, a: Expr, b: Expr) -> Expr {
        assert_eq!(c.width(), 1, "mux condition {} is not 1 bit", c.render());
        assert!(
            a.width() == b.width() && a.signed() == b.signed(),
            "mux arms differ: {} ({} bits) vs {} ({} bits)",
            a.render(),
            a.width(),
            b.render(),
            b.width()
        );
        Expr::Mux(Box::new(c), Box::new(a), Box::new(b))
    }

    pub fn concat(parts: Vec<Expr>) -> Expr {
        assert!(!parts.is_empty());
        Expr::Concat(parts)
    }

    fn render(&self) -> String {
        match self {
            Expr::Sig(s) => s.name.to_string(),
            Expr::Const {
                width,
                signed,
                bits,
            } => {
                if *signed {
                    format!("{width}'sh{:x}", bits & mask(*width))
                } else {
                    format!("{width}'h{:x}", bits & mask(*width))
                }
            }
            Expr::Not(a) => {
                if a.width() == 1 {
                    format!("!{}", a.render())
                } else {
                    format!("~{}", a.render())
                }
            }
            Expr::Neg(a) => format!("(-{})", a.render()),
            Expr::Bin(op, a, b) => format!("({} {} {})", a.render(), op.text(), b.render()),
            Expr::Slice(s, hi, lo) => {
                if s.width == 1 {
                    s.name.to_string()
                } else if hi == lo {
                    format!("{}[{hi}]", s.name)
                } else {
                    format!("{}[{hi}:{lo}]", s.name)
                }
            }
            Expr::Concat(v) => {
                let parts: Vec<String> = v.iter().map(|e| e.render()).collect();
                format!("{{{}}}", parts.join(", "))
            }
            Expr::SExt(s, w) => {
                let k = w - s.width;
                let top = if s.width == 1 {
                    s.name.to_string()
                } else {
                    format!("{}[{}]", s.name, s.width - 1)
                };
                format!("$signed({{{{{k}{{{top}}}}}, {}}})", s.name)
            }
            Expr::ZExt(a, w) => format!("{{{}'h0, {}}}", w - a.width(), a.render()),
            Expr::AsSigned(a) => format!("$signed({})", a.render()),
            Expr::AsUnsigned(a) => format!("$unsigned({})", a.render()),
            Expr::Mux(c, a, b) => format!("({} ? {} : {})", c.render(), a.render(), b.render()),
            Expr::RedOr(a) => format!("(|{})", a.render()),
            Expr::MemRead(m, a) => format!("{}[{}]", m.name, a.render()),
            Expr::Index(sg, a) => format!("{}[{}]", sg.name, a.render()),
        }
    }
}

/// Unsigned constant of `width` bits.
pub fn lit(width: u32, v: u64) -> Expr {
    assert!(
        width >= 64 || v < (1u64 << width),
        "constant {v} does not fit {width} unsigned bits"
    );
    Expr::Const {
        width,
        signed: false,
        bits: v,
    }
}

/// Signed constant of `width` bits.
pub fn slit(width: u32, v: i64) -> Expr {
    let lo = -(1i128 << (width - 1));
    let hi = (1i128 << (width - 1)) - 1;
    assert!(
        (v as i128) >= lo && (v as i128) <= hi,
        "constant {v} does not fit {width} signed bits"
    );
    Expr::Const {
        width,
        signed: true,
        bits: v as u64,
    }
}

impl Sig {
    pub fn slice(&self, hi: u32, lo: u32) -> Expr {
        assert!(
            hi >= lo && hi < self.width,
            "slice [{hi}:{lo}] outside {} ({} bits)",
            self.name,
            self.width
        );
        Expr::Slice(self.clone(), hi, lo)
    }
    pub fn bit(&self, b: u32) -> Expr {
        self.slice(b, b)
    }
    /// `s[idx]`: one bit selected at run time.
    pub fn index(&self, idx: Expr) -> Expr {
        assert!(!idx.signed(), "index of {} is signed", self.name);
        Expr::Index(self.clone(), Box::new(idx))
    }
    /// Sign-extend (or keep) this signed signal to `w` bits.
    pub fn sext(&self, w: u32) -> Expr {
        assert!(self.signed, "sext of unsigned {}", self.name);
        assert!(
            w >= self.width,
            "sext of {} ({} bits) to {w}",
            self.name,
            self.width
        );
        if w == self.width {
            self.e()
        } else {
            Expr::SExt(self.clone(), w)
        }
    }
}

/// Left-hand side of a register assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum Lhs {
    Sig(Sig),
    Mem(Mem, Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Assign(Lhs, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    Case(Expr, Vec<(Vec<Expr>, Vec<Stmt>)>, Vec<Stmt>),
}

/// Non-blocking assignment `s <= e`, widths checked.
pub fn set(s: &Sig, e: Expr) -> Stmt {
    assert!(
        s.width == e.width() && s.signed == e.signed(),
        "assignment to {} ({} bits{}) from {} ({} bits{})",
        s.name,
        s.width,
        if s.signed { ", signed" } else { "" },
        e.render(),
        e.width(),
        if e.signed() { ", signed" } else { "" }
    );
    Stmt::Assign(Lhs::Sig(s.clone()), e)
}

/// Memory write `m[a] <= e`.
pub fn set_mem(m: &Mem, a: Expr, e: Expr) -> Stmt {
    assert_eq!(
        a.width(),
        m.addr_bits,
        "address of {} has {} bits",
        m.name,
        a.width()
    );
    assert_eq!(
        e.width(),
        m.width,
        "data for {} has {} bits",
        m.name,
        e.width()
    );
    assert!(!e.signed(), "memory data for {} must be unsigned", m.name);
    Stmt::Assign(Lhs::Mem(m.clone(), a), e)
}

pub fn if_(c: Expr, t: Vec<Stmt>) -> Stmt {
    assert_eq!(c.width(), 1, "if condition {} is not 1 bit", c.render());
    Stmt::If(c, t, vec![])
}

pub fn if_else(c: Expr, t: Vec<Stmt>, f: Vec<Stmt>) -> Stmt {
    assert_eq!(c.width(), 1, "if condition {} is not 1 bit", c.render());
    Stmt::If(c, t, f)
}

/// `case (sel)` with constant labels of the selector's width; `default` last.
pub fn case(sel: Expr, arms: Vec<(Vec<Expr>, Vec<Stmt>)>, default: Vec<Stmt>) -> Stmt {
    for (labels, _) in &arms {
        for l in labels {
            assert_eq!(l.width(), sel.width(), "case label width");
        }
    }
    Stmt::Case(sel, arms, default)
}

/// What the Verilog is written for: one design, in the form each flow's
/// synthesis takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Target {
    /// Yosys for iCE40 and ECP5: registers carry their power-on values (the
    /// bitstream loads them), memories the RAM kind they must map to
    /// (`ram_style`, e.g. the UP5K's SPRAM).
    #[default]
    Fpga,
    /// A standard-cell flow: plain synthesizable RTL. Registers have no
    /// power-on value (silicon has none; `i_rst` sets every one whose value
    /// matters) and memories no mapping attribute: the cells hold no RAM, so
    /// ROM contents become logic and written memories flip-flops.
    Asic,
}

impl Target {
    /// `fpga` or `asic`, as `phasegen gen --target` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Target::Fpga => "fpga",
            Target::Asic => "asic",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dir {
    In,
    Out,
}

#[derive(Debug, Clone)]
enum Item {
    Comment(String),
    Decl {
        sig: Sig,
        reg: bool,
        init: Option<u64>,
    },
    /// A wire some of whose bits are dropped on purpose, with the reason.
    Partial {
        sig: Sig,
        reason: String,
    },
    Assign(Sig, Expr),
    Mem {
        mem: Mem,
        init: Option<Vec<u128>>,
        /// Synthesis `ram_style`, if forced.
        style: Option<String>,
    },
    /// `always @(posedge clk)`.
    Always(Sig, Vec<Stmt>),
    Inst {
        module: String,
        name: String,
        conns: Vec<(String, Expr)>,
    },
    /// A vendor primitive with attributes and parameters.
    Prim {
        module: String,
        name: String,
        attrs: Vec<(String, String)>,
        params: Vec<(String, String)>,
        conns: Vec<(String, Expr)>,
    },
}

/// A port as seen from outside (name, direction, width, signedness).
#[derive(Debug, Clone, PartialEq)]
pub struct PortInfo {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
    pub signed: bool,
}

#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    doc: Vec<String>,
    ports: Vec<(Sig, Dir, bool)>,
    items: Vec<Item>,
    names: std::collections::BTreeSet<String>,
}

impl Module {
    pub fn new(name: &str) -> Module {
        Module {
            name: name.into(),
            doc: vec![],
            ports: vec![],
            items: vec![],
            names: Default::default(),
        }
    }

    pub fn doc(&mut self, line: &str) {
        self.doc.push(line.into());
    }

    fn fresh(&mut self, name: &str, width: u32, signed: bool) -> Sig {
        assert!(width >= 1, "{name} has zero width");
        assert!(
            !KEYWORDS.contains(&name),
            "{name} is a Verilog/SystemVerilog keyword"
        );
        assert!(
            self.names.insert(name.to_string()),
            "{name} declared twice in {}",
            self.name
        );
        Sig {
            name: name.into(),
            width,
            signed,
        }
    }

    pub fn input(&mut self, name: &str, width: u32) -> Sig {
        let s = self.fresh(name, width, false);
        self.ports.push((s.clone(), Dir::In, false));
        s
    }

    pub fn input_signed(&mut self, name: &str, width: u32) -> Sig {
        let s = self.fresh(name, width, true);
        self.ports.push((s.clone(), Dir::In, false));
        s
    }

    /// Output driven by a register in this module.
    pub fn output_reg(&mut self, name: &str, width: u32) -> Sig {
        let s = self.fresh(name, width, false);
        self.ports.push((s.clone(), Dir::Out, true));
        s
    }

    /// Output driven by a continuous assignment.
    pub fn output(&mut self, name: &str, e: Expr) -> Sig {
        let s = self.fresh(name, e.width(), e.signed());
        self.ports.push((s.clone(), Dir::Out, false));
        self.items.push(Item::Assign(s.clone(), e));
        s
    }

    /// Output driven by an instance (declared now, connected later).
    pub fn output_wire(&mut self, name: &str, width: u32) -> Sig {
        let s = self.fresh(name, width, false);
        self.ports.push((s.clone(), Dir::Out, false));
        s
    }

    pub fn comment(&mut self, text: &str) {
        self.items.push(Item::Comment(text.into()));
    }

    pub fn reg(&mut self, name: &str, width: u32) -> Sig {
        self.reg_init(name, width, false, None)
    }

    pub fn reg_signed(&mut self, name: &str, width: u32) -> Sig {
        self.reg_init(name, width, true, None)
    }

    /// A register with a power-on value (an `initial` value both FPGA
    /// families load with the bitstream).
    pub fn reg_init(&mut self, name: &str, width: u32, signed: bool, init: Option<u64>) -> Sig {
        let s = self.fresh(name, width, signed);
        self.items.push(Item::Decl {
            sig: s.clone(),
            reg: true,
            init,
        });
        s
    }

    /// A named wire driven by `e`.
    pub fn wire(&mut self, name: &str, e: Expr) -> Sig {
        let s = self.fresh(name, e.width(), e.signed());
        self.items.push(Item::Decl {
            sig: s.clone(),
            reg: false,
            init: None,
        });
        self.items.push(Item::Assign(s.clone(), e));
        s
    }

    /// A wire of which only some bits are used, by design: the lint waiver
    /// sits on this one declaration, with its reason.
    pub fn wire_partial(&mut self, name: &str, e: Expr, reason: &str) -> Sig {
        let s = self.fresh(name, e.width(), e.signed());
        self.items.push(Item::Partial {
            sig: s.clone(),
            reason: reason.into(),
        });
        self.items.push(Item::Assign(s.clone(), e));
        s
    }

    /// A wire driven later (by an instance) of which some bits are unused
    /// by design; the lint waiver sits on this declaration with its reason.
    pub fn wire_decl_partial(&mut self, name: &str, width: u32, reason: &str) -> Sig {
        let s = self.fresh(name, width, false);
        self.items.push(Item::Partial {
            sig: s.clone(),
            reason: reason.into(),
        });
        s
    }

    /// Drives a wire declared with [`Module::wire_decl`] (whose value
    /// needs signals made after the instance that reads it).
    pub fn assign(&mut self, s: &Sig, e: Expr) {
        self.items.push(Item::Assign(s.clone(), e));
    }

    /// A wire declared now and driven later (by an instance).
    pub fn wire_decl(&mut self, name: &str, width: u32) -> Sig {
        let s = self.fresh(name, width, false);
        self.items.push(Item::Decl {
            sig: s.clone(),
            reg: false,
            init: None,
        });
        s
    }

    /// A memory, optionally with initial contents (a ROM when never written).
    pub fn mem(&mut self, name: &str, width: u32, depth: usize, init: Option<Vec<u64>>) -> Mem {
        self.mem_wide(
            name,
            width,
            depth,
            init.map(|v| v.into_iter().map(u128::from).collect()),
        )
    }

    /// A memory of words up to 128 bits, optionally with initial contents.
    pub fn mem_wide(
        &mut self,
        name: &str,
        width: u32,
        depth: usize,
        init: Option<Vec<u128>>,
    ) -> Mem {
        assert!(depth >= 1);
        assert!(width <= 128, "{name}: words of {width} bits (at most 128)");
        assert!(
            self.names.insert(name.to_string()),
            "{name} declared twice in {}",
            self.name
        );
        if let Some(v) = &init {
            assert_eq!(v.len(), depth, "initial contents of {name}");
            for (a, &x) in v.iter().enumerate() {
                assert!(
                    width == 128 || x >> width == 0,
                    "{name}[{a}] = {x} does not fit {width} bits"
                );
            }
        }
        let m = Mem {
            name: name.into(),
            width,
            depth,
            addr_bits: phasegen_sim::twin::qformat::clog2(depth as u64),
        };
        self.items.push(Item::Mem {
            mem: m.clone(),
            init,
            style: None,
        });
        m
    }

    /// A memory without initial contents that synthesis must map to the
    /// memory kind `style` (Yosys's `ram_style` attribute, e.g. "huge" for
    /// the UP5K's SPRAM): left to its cost model, Yosys fills block RAM
    /// first whatever else the design needs.
    pub fn mem_styled(&mut self, name: &str, width: u32, depth: usize, style: &str) -> Mem {
        let m = self.mem(name, width, depth, None);
        if let Some(Item::Mem { style: s, .. }) = self.items.last_mut() {
            *s = Some(style.to_string());
        }
        m
    }

    /// A registered (synchronous) read `q <= m[a]`, the form block RAM takes.
    pub fn mem_read(&mut self, clk: &Sig, m: &Mem, q: &Sig, a: Expr) {
        assert_eq!(a.width(), m.addr_bits, "read address of {}", m.name);
        assert_eq!(q.width, m.width, "read data of {}", m.name);
        self.items.push(Item::Always(
            clk.clone(),
            vec![Stmt::Assign(
                Lhs::Sig(q.clone()),
                Expr::MemRead(m.clone(), Box::new(a)),
            )],
        ));
    }

    pub fn always(&mut self, clk: &Sig, body: Vec<Stmt>) {
        self.items.push(Item::Always(clk.clone(), body));
    }

    pub fn instance(&mut self, module: &Module, name: &str, conns: Vec<(&str, Expr)>) {
        let ports = module.ports();
        assert_eq!(
            ports.len(),
            conns.len(),
            "instance {name} of {} connects {} of {} ports",
            module.name,
            conns.len(),
            ports.len()
        );
        for (p, (n, e)) in ports.iter().zip(&conns) {
            assert_eq!(&p.name, n, "instance {name}: port order");
            assert_eq!(
                p.width,
                e.width(),
                "instance {name} of {}: port {} has {} bits, connected to {} bits",
                module.name,
                n,
                p.width,
                e.width()
            );
        }
        self.items.push(Item::Inst {
            module: module.name.clone(),
            name: name.into(),
            conns: conns.into_iter().map(|(n, e)| (n.to_string(), e)).collect(),
        });
    }

    /// An instance of a vendor primitive (`SB_PLL40_PAD`, `EHXPLLL`, ...).
    /// Its ports are the synthesis tool's to check; attribute and parameter
    /// values are Verilog text (`"12"`, `4'b0000`, `"SIMPLE"`).
    pub fn primitive(
        &mut self,
        module: &str,
        name: &str,
        attrs: Vec<(&str, String)>,
        params: Vec<(&str, String)>,
        conns: Vec<(&str, Expr)>,
    ) {
        let owned = |v: Vec<(&str, String)>| -> Vec<(String, String)> {
            v.into_iter().map(|(k, x)| (k.to_string(), x)).collect()
        };
        self.items.push(Item::Prim {
            module: module.into(),
            name: name.into(),
            attrs: owned(attrs),
            params: owned(params),
            conns: conns.into_iter().map(|(n, e)| (n.to_string(), e)).collect(),
        });
    }

    pub fn ports(&self) -> Vec<PortInfo> {
        self.ports
            .iter()
            .map(|(s, d, _)| PortInfo {
                name: s.name.to_string(),
                dir: *d,
                width: s.width,
                signed: s.signed,
            })
            .collect()
    }

    /// The module as Verilog for the FPGA flows.
    pub fn render(&self) -> String {
        self.render_for(Target::Fpga)
    }

    /// The module as Verilog for `target`.
    pub fn render_for(&self, target: Target) -> String {
        let fpga = target == Target::Fpga;
        let mut o = String::new();
        for d in &self.doc {
            let _ = writeln!(o, "// {d}");
        }
        let _ = writeln!(o, "module {} (", self.name);
        let n = self.ports.len();
        for (k, (s, d, r)) in self.ports.iter().enumerate() {
            let dir = match d {
                Dir::In => "input  wire",
                Dir::Out if *r => "output reg ",
                Dir::Out => "output wire",
            };
            let sep = if k + 1 < n { "," } else { "" };
            let _ = writeln!(o, "    {dir} {}{}{sep}", range(s), s.name);
        }
        let _ = writeln!(o, ");");
        for it in &self.items {
            match it {
                Item::Comment(t) => {
                    let _ = writeln!(o, "\n    // {t}");
                }
                Item::Decl { sig, reg, init } => {
                    let kw = if *reg { "reg " } else { "wire" };
                    let init = match init {
                        Some(v) if fpga => format!(" = {}'h{:x}", sig.width, v),
                        _ => String::new(),
                    };
                    let _ = writeln!(o, "    {kw} {}{}{init};", range(sig), sig.name);
                }
                Item::Partial { sig, reason } => {
                    let _ = writeln!(o, "    // {reason}");
                    let _ = writeln!(o, "    /* verilator lint_off UNUSEDSIGNAL */");
                    let _ = writeln!(o, "    wire {}{};", range(sig), sig.name);
                    let _ = writeln!(o, "    /* verilator lint_on UNUSEDSIGNAL */");
                }
                Item::Assign(s, e) => {
                    let _ = writeln!(o, "    assign {} = {};", s.name, e.render());
                }
                Item::Mem { mem, init, style } => {
                    if let Some(st) = style.as_ref().filter(|_| fpga) {
                        let _ = writeln!(o, "    (* ram_style = \"{st}\" *)");
                    }
                    let _ = writeln!(
                        o,
                        "    reg [{}:0] {} [0:{}];",
                        mem.width - 1,
                        mem.name,
                        mem.depth - 1
                    );
                    if let Some(v) = init.as_ref().filter(|v| v.len() >= HEX_MIN_WORDS) {
                        // large contents from a file beside this one (see
                        // `Module::hex_files`): Yosys reads it relative to
                        // the source file, a Verilator build gets the folder
                        // as PG_HEX_DIR (its $readmemh runs at start-up,
                        // relative to the working directory otherwise)
                        let _ = v;
                        let f = hex_name(&self.name, &mem.name);
                        let _ = writeln!(o, "`ifdef PG_HEX_DIR");
                        let _ = writeln!(
                            o,
                            "    initial $readmemh({{`PG_HEX_DIR, \"{f}\"}}, {});",
                            mem.name
                        );
                        let _ = writeln!(o, "`else");
                        let _ = writeln!(o, "    initial $readmemh(\"{f}\", {});", mem.name);
                        let _ = writeln!(o, "`endif");
                    } else if let Some(v) = init {
                        let _ = writeln!(o, "    initial begin");
                        for (a, x) in v.iter().enumerate() {
                            let _ =
                                writeln!(o, "        {}[{a}] = {}'h{x:x};", mem.name, mem.width);
                        }
                        let _ = writeln!(o, "    end");
                    }
                }
                Item::Always(clk, body) => {
                    let _ = writeln!(o, "    always @(posedge {}) begin", clk.name);
                    for s in body {
                        render_stmt(&mut o, s, 2);
                    }
                    let _ = writeln!(o, "    end");
                }
                Item::Inst {
                    module,
                    name,
                    conns,
                } => {
                    let _ = writeln!(o, "    {module} {name} (");
                    let n = conns.len();
                    for (k, (p, e)) in conns.iter().enumerate() {
                        let sep = if k + 1 < n { "," } else { "" };
                        let _ = writeln!(o, "        .{p}({}){sep}", e.render());
                    }
                    let _ = writeln!(o, "    );");
                }
                Item::Prim {
                    module,
                    name,
                    attrs,
                    params,
                    conns,
                } => {
                    assert!(
                        fpga,
                        "{}: vendor primitive {module} {name} has no place in RTL for the {} target",
                        self.name,
                        target.name()
                    );
                    for (k, v) in attrs {
                        let _ = writeln!(o, "    (* {k} = {v} *)");
                    }
                    let _ = writeln!(o, "    {module} #(");
                    let n = params.len();
                    for (i, (k, v)) in params.iter().enumerate() {
                        let sep = if i + 1 < n { "," } else { "" };
                        let _ = writeln!(o, "        .{k}({v}){sep}");
                    }
                    let _ = writeln!(o, "    ) {name} (");
                    let n = conns.len();
                    for (i, (p, e)) in conns.iter().enumerate() {
                        let sep = if i + 1 < n { "," } else { "" };
                        let _ = writeln!(o, "        .{p}({}){sep}", e.render());
                    }
                    let _ = writeln!(o, "    );");
                }
            }
        }
        let _ = writeln!(o, "endmodule");
        o
    }
}

fn range(s: &Sig) -> String {
    let sg = if s.signed { "signed " } else { "" };
    if s.width == 1 && !s.signed {
        String::new()
    } else {
        format!("{sg}[{}:0] ", s.width - 1)
    }
}

fn render_stmt(o: &mut String, s: &Stmt, depth: usize) {
    let ind = "    ".repeat(depth);
    match s {
        Stmt::Assign(Lhs::Sig(sig), e) => {
            let _ = writeln!(o, "{ind}{} <= {};", sig.name, e.render());
        }
        Stmt::Assign(Lhs::Mem(m, a), e) => {
            let _ = writeln!(o, "{ind}{}[{}] <= {};", m.name, a.render(), e.render());
        }
        Stmt::If(c, t, f) => {
            let _ = writeln!(o, "{ind}if ({}) begin", c.render());
            for s in t {
                render_stmt(o, s, depth + 1);
            }
            if f.is_empty() {
                let _ = writeln!(o, "{ind}end");
            } else {
                let _ = writeln!(o, "{ind}end else begin");
                for s in f {
                    render_stmt(o, s, depth + 1);
                }
                let _ = writeln!(o, "{ind}end");
            }
        }
        Stmt::Case(sel, arms, default) => {
            let _ = writeln!(o, "{ind}case ({})", sel.render());
            for (labels, body) in arms {
                let l: Vec<String> = labels.iter().map(|e| e.render()).collect();
                let _ = writeln!(o, "{ind}    {}: begin", l.join(", "));
                for s in body {
                    render_stmt(o, s, depth + 2);
                }
                let _ = writeln!(o, "{ind}    end");
            }
            let _ = writeln!(o, "{ind}    default: begin");
            for s in default {
                render_stmt(o, s, depth + 2);
            }
            let _ = writeln!(o, "{ind}    end");
            let _ = writeln!(o, "{ind}endcase");
        }
    }
}

/// A complete source file: header, `default_nettype none`, the modules.
/// Memories with at least this many initial words are filled from a hex
/// file ([`Module::hex_files`]) instead of `initial` assignments: yowasp's
/// Yosys spends many minutes on tens of thousands of assignments (a 1024
/// oscillator design's 33,296 weight words), and Verilator compiles each
/// into C++.
pub const HEX_MIN_WORDS: usize = 4096;

/// The hex file of memory `mem` of module `module`.
pub fn hex_name(module: &str, mem: &str) -> String {
    format!("{module}_{mem}.hex")
}

impl Module {
    /// The contents of the memories filled from hex files (`$readmemh`, one
    /// word per line, `ceil(width / 4)` digits): `(file name, text)`.
    pub fn hex_files(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .filter_map(|it| match it {
                Item::Mem {
                    mem, init: Some(v), ..
                } if v.len() >= HEX_MIN_WORDS => {
                    let digits = mem.width.div_ceil(4) as usize;
                    let mut t = String::with_capacity(v.len() * (digits + 1));
                    for x in v {
                        let _ = writeln!(t, "{x:0digits$x}");
                    }
                    Some((hex_name(&self.name, &mem.name), t))
                }
                _ => None,
            })
            .collect()
    }
}

pub fn file(header: &[String], modules: &[&Module]) -> String {
    file_for(Target::Fpga, header, modules)
}

/// [`file`] for `target`.
pub fn file_for(target: Target, header: &[String], modules: &[&Module]) -> String {
    let mut o = String::new();
    for h in header {
        let _ = writeln!(o, "// {h}");
    }
    let _ = writeln!(o, "`default_nettype none\n");
    for m in modules {
        o.push_str(&m.render_for(target));
        o.push('\n');
    }
    let _ = writeln!(o, "`default_nettype wire");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_widths_and_signs() {
        let mut m = Module::new("t");
        let clk = m.input("i_clk", 1);
        let a = m.input_signed("i_a", 8);
        let b = m.input_signed("i_b", 4);
        let p = m.reg_signed("p", 12);
        m.always(&clk, vec![set(&p, a.e().mul(b.e()))]);
        let q = m.wire("q", a.sext(12).add(p.e()));
        m.output("o_q", q.e().as_unsigned());
        let v = m.render();
        assert!(v.contains("p <= (i_a * i_b);"), "{v}");
        assert!(v.contains("$signed({{4{i_a[7]}}, i_a})"), "{v}");
        assert!(v.contains("output wire [11:0] o_q"), "{v}");
    }

    #[test]
    #[should_panic(expected = "differ in width")]
    fn width_mismatch_panics() {
        let mut m = Module::new("t");
        let a = m.input("a", 8);
        let b = m.input("b", 4);
        let _ = a.e().add(b.e());
    }

    #[test]
    #[should_panic(expected = "assignment to r (4 bits)")]
    fn assignment_width_checked() {
        let mut m = Module::new("t");
        let a = m.input("a", 8);
        let r = m.reg("r", 4);
        let _ = set(&r, a.e());
    }

    /// The ASIC form drops the power-on values and the RAM-kind attribute,
    /// and keeps everything else (a ROM's contents included) byte for byte.
    #[test]
    fn asic_target_is_plain_rtl() {
        let mut m = Module::new("t");
        let clk = m.input("i_clk", 1);
        let rst = m.input("i_rst", 1);
        let a = m.input("i_a", 2);
        let r = m.reg_init("r", 4, false, Some(9));
        let rom = m.mem("rom", 4, 4, Some(vec![1, 2, 3, 4]));
        let ram = m.mem_styled("ram", 4, 4, "huge");
        let q = m.reg("q", 4);
        let qr = m.reg("qr", 4);
        m.mem_read(&clk, &rom, &q, a.e());
        m.always(
            &clk,
            vec![
                if_else(rst.e(), vec![set(&r, lit(4, 9))], vec![set(&r, q.e())]),
                set_mem(&ram, a.e(), r.e()),
                set(&qr, Expr::MemRead(ram.clone(), Box::new(a.e()))),
            ],
        );
        m.output("o_q", qr.e());
        let fpga = m.render();
        assert_eq!(fpga, m.render_for(Target::Fpga));
        // (declarations are column-aligned: compare with single spaces)
        let one_space = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(one_space(&fpga).contains("reg [3:0] r = 4'h9;"), "{fpga}");
        assert!(fpga.contains("(* ram_style = \"huge\" *)"), "{fpga}");
        let asic = m.render_for(Target::Asic);
        assert!(one_space(&asic).contains("reg [3:0] r;"), "{asic}");
        assert!(!asic.contains("ram_style"), "{asic}");
        assert!(asic.contains("rom[3] = 4'h4;"), "{asic}");
        let strip = |t: &str| -> String {
            t.lines()
                .filter(|l| !l.contains("ram_style"))
                .map(|l| l.replace(" = 4'h9;", ";"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&fpga), strip(&asic));
    }

    #[test]
    #[should_panic(
        expected = "vendor primitive SB_PLL40_CORE pll has no place in RTL for the asic target"
    )]
    fn asic_target_refuses_vendor_primitives() {
        let mut m = Module::new("t");
        let clk = m.input("i_clk", 1);
        m.primitive(
            "SB_PLL40_CORE",
            "pll",
            vec![],
            vec![],
            vec![("REFERENCECLK", clk.e())],
        );
        let _ = m.render_for(Target::Asic);
    }

    #[test]
    fn constants() {
        assert_eq!(slit(8, -1).render(), "8'shff");
        assert_eq!(lit(4, 9).render(), "4'h9");
    }
}
