//! The sample store (`pg_store`) under Verilator against its model
//! (`phasegen_sim::twin::store`): samples written as `pg_top` writes them,
//! then an epoch whose every input copy, label and learning request is
//! the model's, with the engine played by the test. The store is big
//! enough that the UP5K's version spans two SPRAM banks, and samples sit
//! in both.

mod common;

use phasegen::cosim::{scratch_dir, vl_ports, write_if_changed};
use phasegen_sim::config::Config;
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::quant::quantize;
use phasegen_sim::twin::store::{epoch_index, SampleStore, StoreLayout};
use phasegen_vl::{Design, Sim};

#[test]
fn the_store_copies_the_models_samples_in_the_epochs_order() {
    let cfg = Config::parse(
        "name='st'\n[network]\ninputs=64\nlayers=[8,10]\n[train]\nt1=4\nt2=2\n[hardware]\nparams='ram'\nlearning='ep'\nstore=1100\n",
        "t",
    )
    .unwrap();
    let hw = quantize(&cfg, &Params::init(&cfg), 16).unwrap().0;
    assert!(hw.spram, "the iCEBreaker's store is in SPRAM");
    let l = StoreLayout::of(&hw).unwrap();
    assert!(l.depth() > 16384, "two SPRAM banks");
    let md = phasegen_hdl::store::generate(&hw);
    let dir = scratch_dir("store-cosim");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pg_store.v");
    let text = phasegen_hdl::vlog::file(&["pg_store.v: test build".into()], &[&md]);
    assert!(text.contains("st_mem1"), "banked");
    write_if_changed(&path, &text).unwrap();
    common::lint_dir(&dir, Some("pg_store"), "store-cosim");
    let built = phasegen_vl::build(&Design {
        sources: vec![path],
        top: "pg_store".into(),
        ports: vl_ports(&md.ports()),
        clock: "i_clk".into(),
    })
    .unwrap();
    let mut sim = Sim::new(&built).unwrap();
    sim.set("i_rst", 1).unwrap();
    sim.tick(2);
    sim.set("i_rst", 0).unwrap();

    // samples in the first bank, across the banks' boundary (word 16384
    // is sample 1024's), and the last; labels are all in the second bank
    let mut model = SampleStore::new(l);
    let stored = [0usize, 1, 1023, 1024, 1030, 1099];
    for (n, &i) in stored.iter().enumerate() {
        let x: Vec<u64> = (0..64u64)
            .map(|k| (k * 7 + i as u64 * 3 + n as u64) % 16)
            .collect();
        let label = (i * 7) % 10;
        model.write(i, label, 10, 0, &x).unwrap();
        for (w, &word) in l.pack(&x).iter().enumerate() {
            sim.set("i_we", 1).unwrap();
            sim.set("i_lab", 0).unwrap();
            sim.set("i_idx", i as u64).unwrap();
            sim.set("i_word", w as u64).unwrap();
            sim.set("i_wdata", word).unwrap();
            sim.tick(1);
        }
        sim.set("i_lab", 1).unwrap();
        sim.set("i_wdata", label as u64).unwrap();
        sim.tick(1);
    }
    sim.set("i_we", 0).unwrap();
    sim.tick(1);

    // an epoch from 1030 by 69: the stored samples come first (1030,
    // 1099), then 68, 137, ... (and 1, 1024, 1023, 0 along the way)
    let (count, first, stride) = (1100usize, 1030usize, 69usize);
    sim.set("i_count", count as u64).unwrap();
    sim.set("i_first", first as u64).unwrap();
    sim.set("i_stride", stride as u64).unwrap();
    sim.set("i_go", 1).unwrap();
    sim.tick(1);
    sim.set("i_go", 0).unwrap();
    let (mut k, mut right, mut checked) = (0usize, 0u64, 0usize);
    let mut x = vec![u64::MAX; 64];
    let mut cycles = 0u64;
    loop {
        sim.tick(1);
        cycles += 1;
        assert!(cycles < 1 << 22, "the epoch does not end (sample {k})");
        if sim.get("o_x_we").unwrap() == 1 {
            x[sim.get("o_x_addr").unwrap() as usize] = sim.get("o_x_data").unwrap();
        }
        if sim.get("o_learn").unwrap() == 1 {
            let i = epoch_index(first, stride, count, k);
            let label = sim.get("o_label").unwrap() as usize;
            if stored.contains(&i) {
                assert_eq!(x, model.x[i], "sample {k} (index {i}): inputs");
                assert_eq!(label, model.labels[i], "sample {k} (index {i}): label");
                checked += 1;
            }
            x = vec![u64::MAX; 64];
            // the engine: done a few cycles later, its class the label on
            // every third sample
            sim.tick(3);
            cycles += 3;
            let class = if k % 3 == 0 { label } else { (label + 1) % 10 };
            right += (class == label) as u64;
            sim.set("i_l_class", class as u64).unwrap();
            sim.set("i_l_done", 1).unwrap();
            sim.tick(1);
            sim.set("i_l_done", 0).unwrap();
            k += 1;
            if sim.get("o_done").unwrap() == 1 {
                break;
            }
        }
    }
    assert_eq!(k, count, "every sample learned once");
    assert_eq!(checked, stored.len(), "every stored sample visited");
    assert_eq!(sim.get("o_correct").unwrap(), right);
    assert_eq!(sim.get("o_busy").unwrap(), 0);
    eprintln!(
        "{count} samples in {cycles} cycles: {:.1} per sample besides the engine's",
        cycles as f64 / count as f64
    );
}
