//! docs/protocol.md's `design_id` recipe, reproduced from the page itself:
//! the worked example's config, canonical text, quantized model JSON,
//! hashes and id are read from the page, every hash is computed here with
//! `sha2` directly over the documented bytes, and each must equal what
//! phasegen computes (`Config::hash_hex`, `phasegen_hdl::model_hash`,
//! `phasegen_hdl::design_id`) and what the generated files say.

use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const DOC: &str = include_str!("../docs/protocol.md");

/// The fenced block after the marker `<!-- design_id example: NAME -->`.
fn block(name: &str) -> String {
    let marker = format!("<!-- design_id example: {name} -->");
    let at = DOC
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/protocol.md has no {marker}"));
    let rest = &DOC[at + marker.len()..];
    let open = rest.find("```").expect("a fenced block after the marker");
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let close = body.find("\n```").expect("the block's closing fence");
    format!("{}\n", &body[..close])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn design_id_is_reproduced_from_the_documented_recipe() {
    // the config as written, and its canonical text
    let cfg = Config::parse(&block("config.toml"), "the documented example").unwrap();
    let canonical = block("canonical text");
    assert_eq!(
        canonical,
        cfg.canonical(),
        "the documented canonical text differs; phasegen's is\n{}",
        cfg.canonical()
    );
    // the worked values, `name: value` per line
    let values: HashMap<String, String> = block("values")
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let v = |k: &str| {
        values
            .get(k)
            .unwrap_or_else(|| panic!("no {k:?} in the documented values: {values:?}"))
            .clone()
    };
    let config_hash = hex(&Sha256::digest(canonical.as_bytes())[..8]);

    // the quantized model of the example: its initial parameters
    let max_pixel: u8 = v("max_pixel").parse().unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), max_pixel).unwrap();
    let json = block("model.json");
    let json = json.trim_end_matches('\n');
    let actual = serde_json::to_string(&hw).unwrap();
    assert_eq!(
        json, actual,
        "the documented model JSON differs; phasegen's is\n{actual}"
    );
    let model_hash = hex(&Sha256::digest(json.as_bytes())[..8]);

    // the id: SHA-256 over "<config_hash>/<model_hash>", first 4 bytes big-endian
    let text = format!("{config_hash}/{model_hash}");
    let digest = Sha256::digest(text.as_bytes());
    let id = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let got = [
        ("config_hash", config_hash.clone()),
        ("model_hash", model_hash.clone()),
        ("hashed text", text.clone()),
        ("SHA-256", hex(&digest)),
        ("design_id", format!("0x{id:08x}")),
        (
            "Identify bytes 1-4",
            hex(&id.to_be_bytes())
                .as_bytes()
                .chunks(2)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" "),
        ),
    ];
    for (k, g) in &got {
        eprintln!("{k}: {g}");
    }
    for (k, g) in &got {
        assert_eq!(&v(k), g, "{k}");
    }

    // ... and phasegen agrees with the recipe
    assert_eq!(cfg.hash_hex(), config_hash);
    assert_eq!(phasegen_hdl::model_hash(&hw), model_hash);
    assert_eq!(phasegen_hdl::design_id(&cfg.hash_hex(), &hw), id);
    let identify = phasegen_hdl::top::identity(&hw, id).to_bytes();
    assert_eq!(identify[1..5], id.to_be_bytes());
    // every generated file names both hashes in its first line
    let files = phasegen_hdl::generate_design(&cfg.hash_hex(), id, &hw, 12_000_000, 115_200);
    for f in files.iter().filter(|f| f.name.ends_with(".v")) {
        let first = f.text.lines().next().unwrap();
        assert!(
            first.contains(&format!("from config {config_hash}, model {model_hash};")),
            "{}: {first}",
            f.name
        );
    }
}
