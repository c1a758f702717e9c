//! Streaming inference over the simulated UART: with `Infer` and two
//! requests in flight the device takes the next image while it settles the
//! current one, so images flow at nearly the line rate. The cycle counts
//! are simulated, so the figures are exact for the board clock.
//!
//! `cargo test --release --test throughput -- --nocapture` prints them
//! (docs/protocol.md quotes them).

use phasegen::cosim::scratch_dir;
use phasegen::uartsim::{build_top, TopSim};
use phasegen_hdl::uart::clocks_per_bit;
use phasegen_sim::config::Config;
use phasegen_sim::data::load_dir;
use phasegen_sim::link::protocol::{self, Cmd, Decoder};
use phasegen_sim::onn::net::Params;
use phasegen_sim::twin::model::Twin;
use phasegen_sim::twin::quant::quantize;
use std::path::Path;

#[test]
fn streamed_inference_runs_near_the_line_rate() {
    let cfg = Config::default_config();
    let data = load_dir(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits-8x8"
    )))
    .unwrap();
    let (hw, _) = quantize(&cfg, &Params::init(&cfg), data.train.max_pixel).unwrap();
    let built = build_top(&cfg, &hw, &scratch_dir("throughput-default")).unwrap();
    let cpb = clocks_per_bit(cfg.target.clock_hz, cfg.target.baud);
    let mut top = TopSim::new(&built, cpb).unwrap();
    let images = 24;
    let frames: Vec<Vec<u8>> = (0..images)
        .map(|i| {
            let mut p = vec![0u8, 0];
            p.extend(
                hw.inputs_of_image(data.test.image(i))
                    .iter()
                    .map(|&v| v as u8),
            );
            protocol::request(Cmd::Infer, &p)
        })
        .collect();
    // the schedule's cycles per step, plus the field once per image
    let sched = phasegen_sim::twin::sched::Schedule::new(&hw);
    let field_cycles = sched.field.len() * sched.field_len;
    let run_cycles = hw.steps as usize * sched.step_cycles() + field_cycles;

    // one Infer alone: from the end of the request's last stop bit to the
    // reply's start bit
    let tx = top.sim.port("o_uart_tx").unwrap();
    top.to_device.extend(&frames[0]);
    while !top.to_device.is_empty() {
        top.run(1);
    }
    // the last byte's start bit began in the cycle just run
    let request_end = top.sim.cycles - 1 + 10 * cpb;
    while top.sim.get_i(tx) == 1 || top.sim.cycles <= request_end {
        top.run(1);
    }
    let latency = top.sim.cycles - 1 - request_end;
    let mut dec = Decoder::default();
    while dec.next_frame().unwrap().is_none() {
        top.run(1000);
        dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
    }
    eprintln!(
        "one Infer alone: {latency} cycles from the end of the request to the reply ({:.2} ms at {} MHz); the schedule: {} steps x {} cycles + the field's {} cycles = {run_cycles}",
        latency as f64 / cfg.target.clock_hz as f64 * 1e3,
        cfg.target.clock_hz as f64 / 1e6,
        hw.steps,
        sched.step_cycles(),
        field_cycles,
    );
    assert!(
        latency >= run_cycles as u64 && latency <= run_cycles as u64 + 2 * cpb,
        "latency {latency} against the schedule's {run_cycles}"
    );

    let mut twin = Twin::new(&hw);
    let mut dec = Decoder::default();
    let (mut sent, mut done, mut cycles) = (0usize, 0usize, 0u64);
    let mut at = Vec::new();
    while done < images {
        // keep two requests in flight
        while sent < images && sent - done < 2 {
            top.to_device.extend(&frames[sent]);
            sent += 1;
        }
        top.run(50);
        cycles += 50;
        assert!(cycles < 50_000_000, "stalled after {done} images");
        dec.push(&top.from_device.drain(..).collect::<Vec<u8>>());
        while let Some(r) = dec.next_frame().unwrap() {
            assert_eq!(r.cmd, Cmd::Infer as u8, "{r:?}");
            let want = twin.infer(&hw.inputs_of_image(data.test.image(done)));
            assert_eq!(r.payload, vec![want as u8], "image {done}");
            at.push(cycles);
            done += 1;
        }
    }
    // steady state: after the first few images
    let per_image = (at[images - 1] - at[4]) as f64 / (images - 5) as f64;
    let frame_bytes = frames[0].len() as f64;
    let input_bytes = hw.topo.inputs as f64;
    let line_bound = input_bytes * 10.0 * cpb as f64; // cycles per image, raw input bytes only
    let frame_bound = frame_bytes * 10.0 * cpb as f64; // with the frame's 6 bytes of overhead (sync, cmd, len, offset, crc)
    let f = cfg.target.clock_hz as f64;
    let eff = line_bound / per_image;
    eprintln!(
        "{} inputs at {} baud, {} MHz, streamed: {:.0} cycles per image = {:.1} images/s; line-rate bound {:.1} images/s (input bytes only), {:.1} with framing; efficiency {:.1}% (settle of {} steps, {} cycles)",
        hw.topo.inputs,
        cfg.target.baud,
        f / 1e6,
        per_image,
        f / per_image,
        f / line_bound,
        f / frame_bound,
        100.0 * eff,
        hw.steps,
        run_cycles
    );
    assert!(
        eff >= 0.90,
        "efficiency {eff:.3} below 90% of the line rate"
    );
}
