// iCEBreaker v1.0 board top for the generated metacircuit controller
// (pg_ctl_top, docs/metacircuit-board.md). Hand-written; pg_ctl_top, its
// modules and pg_pll are generated into build/ctl-<board>/gen/ by
// `phasegen r2nn gen-ctl --board icebreaker`.
//
// Pins: the board's clock, UART, button and LEDs (constraints/icebreaker.pcf)
// and the metacircuit board's SPI buses on PMOD1A/1B
// (constraints/metacircuit-icebreaker.pcf); the chains' data outputs
// (rheo_miso, bank_miso) carry the parts' readback.
//
// Reset: as icebreaker_top.v: held until the PLL has locked, 16 clocks
// after, and while the button is pressed. Green LED: running; red: in reset.
`default_nettype none

module icebreaker_ctl_top (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    output wire LEDR_N,
    output wire LEDG_N,
    input  wire BTN_N,
    output wire dac_cs_n,
    output wire dac_mosi,
    output wire dac_sclk,
    output wire adc_cs_n,
    output wire adc_mosi,
    output wire adc_sclk,
    input  wire [1:0] adc_miso,
    output wire adc_rst_n,
    output wire prog_sclk,
    output wire prog_mosi,
    output wire rheo_cs_n,
    output wire bank_cs_n,
    output wire rheo_reset_n,
    input  wire rheo_miso,
    input  wire bank_miso
);
    wire clk;
    wire pll_locked;
    pg_pll u_pll (
        .i_clk(CLK),
        .o_clk(clk),
        .o_locked(pll_locked)
    );

    reg [1:0] lock_sync = 2'b00;
    always @(posedge clk) lock_sync <= {lock_sync[0], pll_locked};
    wire locked = lock_sync[1];

    reg [4:0] por_count = 5'd0;
    wire      por_done = por_count[4];
    always @(posedge clk) begin
        if (!locked) por_count <= 5'd0;
        else if (!por_done) por_count <= por_count + 5'd1;
    end

    reg btn_meta = 1'b0;
    reg btn_pressed = 1'b0;
    always @(posedge clk) begin
        btn_meta    <= ~BTN_N;
        btn_pressed <= btn_meta;
    end

    reg rst_n = 1'b0;
    always @(posedge clk) rst_n <= por_done & ~btn_pressed;
    wire rst = ~rst_n;

    // The ADCs' and the chains' data lines go to the SPI masters directly:
    // they change after SCLK edges the masters make, at least one clock
    // cycle before they are sampled.
    pg_ctl_top u_ctl (
        .i_clk(clk),
        .i_rst(rst),
        .i_rx(RX),
        .i_adc_miso(adc_miso),
        .i_rheo_miso(rheo_miso),
        .i_bank_miso(bank_miso),
        .o_tx(TX),
        .o_prog_sclk(prog_sclk),
        .o_prog_mosi(prog_mosi),
        .o_bank_cs_n(bank_cs_n),
        .o_rheo_cs_n(rheo_cs_n),
        .o_dac_cs_n(dac_cs_n),
        .o_dac_sclk(dac_sclk),
        .o_dac_mosi(dac_mosi),
        .o_adc_cs_n(adc_cs_n),
        .o_adc_sclk(adc_sclk),
        .o_adc_mosi(adc_mosi),
        .o_adc_rst_n(adc_rst_n),
        .o_rheo_reset_n(rheo_reset_n)
    );

    assign LEDG_N = ~rst_n;
    assign LEDR_N = rst_n;
endmodule

`default_nettype wire
