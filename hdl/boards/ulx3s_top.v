// ULX3S (v2.x / v3.0.x, any ECP5 size) board top for the generated phasegen
// core (pg_top). Hand-written; the core and pg_pll are generated into
// build/<board>/gen/. Used for BOARD=ulx3s-85f and BOARD=ulx3s-25f.
//
// Clock: pg_pll passes the 25 MHz oscillator (pin G2) through, or runs it
// through an EHXPLLL when the config asks for another target.clock_hz.
//
// Reset: the core sees i_rst high until the PLL has locked, for 16 clocks
// after that (ECP5 flip-flops start at 0 after configuration, so a counter
// from 0 needs no reset of its own) and while FIRE1 is pressed. LOCK and the
// button are asynchronous, so each passes two flip-flops first. The UART is
// the FT231X's: ftdi_txd is what the FTDI chip transmits (into the FPGA),
// ftdi_rxd what it receives. RX goes to the core unsynchronized: the core's
// UART receiver synchronizes it.
`default_nettype none

module ulx3s_top (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,
    output wire       ftdi_rxd,
    output wire [1:0] led,
    input  wire       btn_fire1,
    output wire       wifi_gpio0
);
    // Held high so the ESP32 (when its firmware watches this line) does not
    // reset the board; the usual ULX3S convention.
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

    // Power-on reset: count 0..16 once locked, then stop; bit 4 marks "done".
    reg [4:0] por_count = 5'd0;
    wire      por_done = por_count[4];
    always @(posedge clk) begin
        if (!locked) por_count <= 5'd0;
        else if (!por_done) por_count <= por_count + 5'd1;
    end

    // FIRE1 is active high (pulled down on the board).
    reg btn_meta = 1'b0;
    reg btn_pressed = 1'b0;
    always @(posedge clk) begin
        btn_meta    <= btn_fire1;
        btn_pressed <= btn_meta;
    end

    // Registered reset; stored active low so its power-up value asserts it.
    reg rst_n = 1'b0;
    always @(posedge clk) rst_n <= por_done & ~btn_pressed;
    wire rst = ~rst_n;

    wire busy;
    pg_top u_core (
        .i_clk(clk),
        .i_rst(rst),
        .i_uart_rx(ftdi_txd),
        .o_uart_tx(ftdi_rxd),
        .o_busy(busy),
        // o_osc: the top bit of the phases of hardware.pins oscillators
        // (docs/hardware.md); its width is the config's, so this board
        // top leaves it unrouted: connect it to a header to watch the
        // oscillators on a scope.
        /* verilator lint_off PINCONNECTEMPTY */
        .o_osc()
        /* verilator lint_on PINCONNECTEMPTY */
    );

    // led[0] lit while the core runs, led[1] while it is idle (active high).
    assign led[0] = busy;
    assign led[1] = ~busy;
endmodule

`default_nettype wire
