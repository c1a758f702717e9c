// iCEBreaker v1.0 board top for the generated phasegen core (pg_top).
// Hand-written; the core and pg_pll are generated into build/<board>/gen/.
//
// Clock: pg_pll passes the 12 MHz oscillator through, or runs it through the
// UP5K's PLL (SB_PLL40_PAD: pin 35 is the PLL's input pad) when the config
// asks for another target.clock_hz.
//
// Reset: the core sees i_rst high until the PLL has locked, for 16 clocks
// after that (iCE40 flip-flops start at 0, so a counter from 0 needs no reset
// of its own) and while the user button is pressed. LOCK and the button are
// asynchronous, so each passes two flip-flops first. RX goes to the core
// unsynchronized: the core's UART receiver synchronizes it.
`default_nettype none

module icebreaker_top (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    output wire LEDR_N,
    output wire LEDG_N,
    input  wire BTN_N
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

    // Power-on reset: count 0..16 once locked, then stop; bit 4 marks "done".
    reg [4:0] por_count = 5'd0;
    wire      por_done = por_count[4];
    always @(posedge clk) begin
        if (!locked) por_count <= 5'd0;
        else if (!por_done) por_count <= por_count + 5'd1;
    end

    // Button synchronizer, stored as "pressed" so the power-up value 0 means
    // released.
    reg btn_meta = 1'b0;
    reg btn_pressed = 1'b0;
    always @(posedge clk) begin
        btn_meta    <= ~BTN_N;
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
        .i_uart_rx(RX),
        .o_uart_tx(TX),
        .o_busy(busy),
        // o_osc: the top bit of the phases of hardware.pins oscillators
        // (docs/hardware.md); its width is the config's, so this board
        // top leaves it unrouted: connect it to a header to watch the
        // oscillators on a scope.
        /* verilator lint_off PINCONNECTEMPTY */
        .o_osc()
        /* verilator lint_on PINCONNECTEMPTY */
    );

    // Green while idle, red while busy (both LEDs are active low).
    assign LEDG_N = busy;
    assign LEDR_N = ~busy;
endmodule

`default_nettype wire
