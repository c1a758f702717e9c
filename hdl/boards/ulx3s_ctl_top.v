// ULX3S board top for the generated metacircuit controller (pg_ctl_top,
// docs/metacircuit-board.md). Hand-written; pg_ctl_top, its modules and
// pg_pll are generated into build/ctl-<board>/gen/ by
// `phasegen r2nn gen-ctl --board ulx3s-85f`.
//
// Pins: the board's 25 MHz clock, FTDI UART, FIRE1 button, two LEDs
// (constraints/ulx3s.lpf) and the metacircuit board's SPI buses on header
// J1 (constraints/metacircuit-ulx3s.lpf); the chains' data outputs
// (rheo_miso, bank_miso) carry the parts' readback. WiFi GPIO0 is held high
// so the ESP32 does not take over.
//
// Reset: held until the PLL has locked, 16 clocks after, and while FIRE1 is
// pressed. led[0]: running; led[1]: in reset.
`default_nettype none

module ulx3s_ctl_top (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,
    output wire       ftdi_rxd,
    output wire [1:0] led,
    input  wire       btn_fire1,
    output wire       wifi_gpio0,
    output wire       dac_cs_n,
    output wire       dac_mosi,
    output wire       dac_sclk,
    output wire       adc_cs_n,
    output wire       adc_mosi,
    output wire       adc_sclk,
    input  wire [1:0] adc_miso,
    output wire       adc_rst_n,
    output wire       prog_sclk,
    output wire       prog_mosi,
    output wire       rheo_cs_n,
    output wire       bank_cs_n,
    output wire       rheo_reset_n,
    input  wire       rheo_miso,
    input  wire       bank_miso
);
    assign wifi_gpio0 = 1'b1;

    wire clk;
    wire pll_locked;
    pg_pll u_pll (
        .i_clk(clk_25mhz),
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
        btn_meta    <= btn_fire1;
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
        .i_rx(ftdi_txd),
        .i_adc_miso(adc_miso),
        .i_rheo_miso(rheo_miso),
        .i_bank_miso(bank_miso),
        .o_tx(ftdi_rxd),
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

    assign led[0] = rst_n;
    assign led[1] = ~rst_n;
endmodule

`default_nettype wire
