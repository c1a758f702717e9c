// DP16KD simulation model for netlist simulation (tests/netlist_sim.rs).
//
// Hand-written: Yosys ships DP16KD only as a black box (lattice/
// cells_sim_ecp5.v). This models what Yosys's ECP5 block RAM mapping
// (lattice/brams_16kd.txt, brams_map_16kd.v) instantiates for our designs:
// no output register (REGMODE = "NOREG"), chip select decode 0b000 with the
// CS inputs tied low, non-inverted clocks, and data widths 9, 18 or 36 (36
// is the pseudo-dual-port form: port A writes DIA (low half) and DIB (high
// half) with byte enables on ADA3..ADA0, port B reads, DOA low and DOB high).
// The 18 Kbit array is 1024 words of 18 bits; INITVAL_xx holds words
// 16*xx .. 16*xx+15 in 20-bit slots (data in the low 18 bits). A 9-bit unit
// a is half a[0] of word a>>1 (low half first), a 36-bit word m is words 2m
// (low) and 2m+1 (high). Addresses: ADx13..ADx4 for 18 bits (ADx1..ADx0 are
// the byte enables), ADx13..ADx3 for 9 bits, ADx13..ADx5 for 36 bits.
// Reads are synchronous (the output changes at a clock edge with CE); on a
// port that writes, WRITEMODE decides what it shows: NORMAL keeps the old
// output, WRITETHROUGH the new data, READBEFOREWRITE the old data. A read
// on one port of a word the other port writes at the same edge returns the
// old data. Widths 1, 2 and 4, output registers, other chip selects and
// inverted clocks stop the elaboration with the reason ($fatal), so the
// model cannot silently stand in for something it does not do.
`default_nettype none
module DP16KD #(
    parameter integer DATA_WIDTH_A = 18,
    parameter integer DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG",
    parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC",
    parameter ASYNC_RESET_RELEASE = "SYNC",
    parameter CSDECODE_A = "0b000",
    parameter CSDECODE_B = "0b000",
    parameter WRITEMODE_A = "NORMAL",
    parameter WRITEMODE_B = "NORMAL",
    parameter GSR = "ENABLED",
    parameter CLKAMUX = "CLKA",
    parameter CLKBMUX = "CLKB",
    parameter [319:0] INITVAL_00 = 320'h0,
    parameter [319:0] INITVAL_01 = 320'h0,
    parameter [319:0] INITVAL_02 = 320'h0,
    parameter [319:0] INITVAL_03 = 320'h0,
    parameter [319:0] INITVAL_04 = 320'h0,
    parameter [319:0] INITVAL_05 = 320'h0,
    parameter [319:0] INITVAL_06 = 320'h0,
    parameter [319:0] INITVAL_07 = 320'h0,
    parameter [319:0] INITVAL_08 = 320'h0,
    parameter [319:0] INITVAL_09 = 320'h0,
    parameter [319:0] INITVAL_0A = 320'h0,
    parameter [319:0] INITVAL_0B = 320'h0,
    parameter [319:0] INITVAL_0C = 320'h0,
    parameter [319:0] INITVAL_0D = 320'h0,
    parameter [319:0] INITVAL_0E = 320'h0,
    parameter [319:0] INITVAL_0F = 320'h0,
    parameter [319:0] INITVAL_10 = 320'h0,
    parameter [319:0] INITVAL_11 = 320'h0,
    parameter [319:0] INITVAL_12 = 320'h0,
    parameter [319:0] INITVAL_13 = 320'h0,
    parameter [319:0] INITVAL_14 = 320'h0,
    parameter [319:0] INITVAL_15 = 320'h0,
    parameter [319:0] INITVAL_16 = 320'h0,
    parameter [319:0] INITVAL_17 = 320'h0,
    parameter [319:0] INITVAL_18 = 320'h0,
    parameter [319:0] INITVAL_19 = 320'h0,
    parameter [319:0] INITVAL_1A = 320'h0,
    parameter [319:0] INITVAL_1B = 320'h0,
    parameter [319:0] INITVAL_1C = 320'h0,
    parameter [319:0] INITVAL_1D = 320'h0,
    parameter [319:0] INITVAL_1E = 320'h0,
    parameter [319:0] INITVAL_1F = 320'h0,
    parameter [319:0] INITVAL_20 = 320'h0,
    parameter [319:0] INITVAL_21 = 320'h0,
    parameter [319:0] INITVAL_22 = 320'h0,
    parameter [319:0] INITVAL_23 = 320'h0,
    parameter [319:0] INITVAL_24 = 320'h0,
    parameter [319:0] INITVAL_25 = 320'h0,
    parameter [319:0] INITVAL_26 = 320'h0,
    parameter [319:0] INITVAL_27 = 320'h0,
    parameter [319:0] INITVAL_28 = 320'h0,
    parameter [319:0] INITVAL_29 = 320'h0,
    parameter [319:0] INITVAL_2A = 320'h0,
    parameter [319:0] INITVAL_2B = 320'h0,
    parameter [319:0] INITVAL_2C = 320'h0,
    parameter [319:0] INITVAL_2D = 320'h0,
    parameter [319:0] INITVAL_2E = 320'h0,
    parameter [319:0] INITVAL_2F = 320'h0,
    parameter [319:0] INITVAL_30 = 320'h0,
    parameter [319:0] INITVAL_31 = 320'h0,
    parameter [319:0] INITVAL_32 = 320'h0,
    parameter [319:0] INITVAL_33 = 320'h0,
    parameter [319:0] INITVAL_34 = 320'h0,
    parameter [319:0] INITVAL_35 = 320'h0,
    parameter [319:0] INITVAL_36 = 320'h0,
    parameter [319:0] INITVAL_37 = 320'h0,
    parameter [319:0] INITVAL_38 = 320'h0,
    parameter [319:0] INITVAL_39 = 320'h0,
    parameter [319:0] INITVAL_3A = 320'h0,
    parameter [319:0] INITVAL_3B = 320'h0,
    parameter [319:0] INITVAL_3C = 320'h0,
    parameter [319:0] INITVAL_3D = 320'h0,
    parameter [319:0] INITVAL_3E = 320'h0,
    parameter [319:0] INITVAL_3F = 320'h0
) (
    input wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input wire CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input wire CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    // the configurations this model covers
    initial begin
        if (!(DATA_WIDTH_A == 9 || DATA_WIDTH_A == 18 || DATA_WIDTH_A == 36))
            $fatal(1, "DP16KD model: DATA_WIDTH_A = %0d not modelled (9, 18, 36)", DATA_WIDTH_A);
        if (!(DATA_WIDTH_B == 9 || DATA_WIDTH_B == 18 || DATA_WIDTH_B == 36))
            $fatal(1, "DP16KD model: DATA_WIDTH_B = %0d not modelled (9, 18, 36)", DATA_WIDTH_B);
        if ((DATA_WIDTH_A == 36) != (DATA_WIDTH_B == 36))
            $fatal(1, "DP16KD model: 36 bits must be on both ports");
        if (REGMODE_A != "NOREG" || REGMODE_B != "NOREG")
            $fatal(1, "DP16KD model: output registers not modelled");
        if (CSDECODE_A != "0b000" || CSDECODE_B != "0b000")
            $fatal(1, "DP16KD model: chip select decode other than 0b000 not modelled");
        if (CLKAMUX != "CLKA" || CLKBMUX != "CLKB")
            $fatal(1, "DP16KD model: inverted clocks not modelled");
    end

    reg [17:0] mem [0:1023];
    integer k;
    initial begin
        for (k = 0; k < 16; k = k + 1) mem[0 + k] = INITVAL_00[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[16 + k] = INITVAL_01[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[32 + k] = INITVAL_02[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[48 + k] = INITVAL_03[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[64 + k] = INITVAL_04[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[80 + k] = INITVAL_05[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[96 + k] = INITVAL_06[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[112 + k] = INITVAL_07[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[128 + k] = INITVAL_08[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[144 + k] = INITVAL_09[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[160 + k] = INITVAL_0A[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[176 + k] = INITVAL_0B[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[192 + k] = INITVAL_0C[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[208 + k] = INITVAL_0D[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[224 + k] = INITVAL_0E[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[240 + k] = INITVAL_0F[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[256 + k] = INITVAL_10[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[272 + k] = INITVAL_11[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[288 + k] = INITVAL_12[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[304 + k] = INITVAL_13[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[320 + k] = INITVAL_14[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[336 + k] = INITVAL_15[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[352 + k] = INITVAL_16[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[368 + k] = INITVAL_17[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[384 + k] = INITVAL_18[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[400 + k] = INITVAL_19[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[416 + k] = INITVAL_1A[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[432 + k] = INITVAL_1B[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[448 + k] = INITVAL_1C[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[464 + k] = INITVAL_1D[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[480 + k] = INITVAL_1E[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[496 + k] = INITVAL_1F[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[512 + k] = INITVAL_20[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[528 + k] = INITVAL_21[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[544 + k] = INITVAL_22[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[560 + k] = INITVAL_23[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[576 + k] = INITVAL_24[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[592 + k] = INITVAL_25[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[608 + k] = INITVAL_26[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[624 + k] = INITVAL_27[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[640 + k] = INITVAL_28[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[656 + k] = INITVAL_29[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[672 + k] = INITVAL_2A[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[688 + k] = INITVAL_2B[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[704 + k] = INITVAL_2C[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[720 + k] = INITVAL_2D[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[736 + k] = INITVAL_2E[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[752 + k] = INITVAL_2F[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[768 + k] = INITVAL_30[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[784 + k] = INITVAL_31[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[800 + k] = INITVAL_32[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[816 + k] = INITVAL_33[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[832 + k] = INITVAL_34[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[848 + k] = INITVAL_35[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[864 + k] = INITVAL_36[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[880 + k] = INITVAL_37[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[896 + k] = INITVAL_38[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[912 + k] = INITVAL_39[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[928 + k] = INITVAL_3A[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[944 + k] = INITVAL_3B[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[960 + k] = INITVAL_3C[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[976 + k] = INITVAL_3D[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[992 + k] = INITVAL_3E[k*20 +: 18];
        for (k = 0; k < 16; k = k + 1) mem[1008 + k] = INITVAL_3F[k*20 +: 18];
    end

    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire sel_a = {CSA2, CSA1, CSA0} == 3'b000;
    wire sel_b = {CSB2, CSB1, CSB0} == 3'b000;
    wire wide = DATA_WIDTH_A == 36;

    // one port's word index, half (9-bit units) and byte enables (18 bits)
    function automatic [9:0] word_of(input [13:0] ad, input integer width);
        word_of = width == 9 ? ad[13:4] : width == 18 ? ad[13:4] : {ad[13:5], 1'b0};
    endfunction

    reg [17:0] doa, dob;
    // the array's contents before this edge's writes (read-before-write
    // between the ports)
    reg [17:0] old_a_lo, old_a_hi, old_b_lo, old_b_hi;

    always @(posedge CLKA or posedge CLKB) begin : ports
        reg [9:0] wa, wb;
        reg [17:0] ra, rb, rb_hi;
        wa = word_of(ada, DATA_WIDTH_A);
        wb = word_of(adb, DATA_WIDTH_B);
        ra = mem[wa];
        rb = mem[wb];
        rb_hi = mem[wb | 10'd1];
        // port A: write
        if (CLKA && CEA && sel_a) begin
            if (wide) begin
                if (ADA0) mem[wa][8:0] <= dia[8:0];
                if (ADA1) mem[wa][17:9] <= dia[17:9];
                if (ADA2) mem[wa | 10'd1][8:0] <= dib[8:0];
                if (ADA3) mem[wa | 10'd1][17:9] <= dib[17:9];
            end else if (WEA) begin
                if (DATA_WIDTH_A == 9) begin
                    if (ada[3]) mem[wa][17:9] <= dia[8:0];
                    else mem[wa][8:0] <= dia[8:0];
                end else begin
                    if (ADA0) mem[wa][8:0] <= dia[8:0];
                    if (ADA1) mem[wa][17:9] <= dia[17:9];
                end
            end
        end
        // port B: write (not in the 36-bit form, where B only reads)
        if (CLKB && CEB && sel_b && WEB && !wide) begin
            if (DATA_WIDTH_B == 9) begin
                if (adb[3]) mem[wb][17:9] <= dib[8:0];
                else mem[wb][8:0] <= dib[8:0];
            end else begin
                if (ADB0) mem[wb][8:0] <= dib[8:0];
                if (ADB1) mem[wb][17:9] <= dib[17:9];
            end
        end
        // port A: read (the 36-bit form reads on port B)
        if (CLKA && CEA && sel_a && !wide) begin
            if (!WEA || WRITEMODE_A == "READBEFOREWRITE")
                doa <= DATA_WIDTH_A == 9 ? {9'd0, ada[3] ? ra[17:9] : ra[8:0]} : ra;
            else if (WRITEMODE_A == "WRITETHROUGH")
                doa <= DATA_WIDTH_A == 9 ? {9'd0, dia[8:0]} : dia;
        end
        // port B: read
        if (CLKB && CEB && sel_b) begin
            if (wide) begin
                doa <= rb;
                dob <= rb_hi;
            end else if (!WEB || WRITEMODE_B == "READBEFOREWRITE")
                dob <= DATA_WIDTH_B == 9 ? {9'd0, adb[3] ? rb[17:9] : rb[8:0]} : rb;
            else if (WRITEMODE_B == "WRITETHROUGH")
                dob <= DATA_WIDTH_B == 9 ? {9'd0, dib[8:0]} : dib;
        end
        // output resets (RESETMODE: both clear the read data here)
        if (RSTA && !wide) doa <= 18'd0;
        if (RSTB) begin
            dob <= 18'd0;
            if (wide) doa <= 18'd0;
        end
    end

    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;
endmodule
`default_nettype wire
