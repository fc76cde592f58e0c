"""Published reference figures for the benchmark models (facts from shared/models/README.md): TFLM with
Arm's CMSIS-NN kernels, bare metal on the same emulated Cortex-M4 (QEMU mps2-an386), instructions per
invoke counted exactly; and TFLM's arena on that 32-bit build."""

# model file stem -> (instructions per invoke, TFLM arena bytes on Cortex-M4)
TFLM_CMSIS_NN_M4 = {
    "kws_ref_model": (7_700_730, 24_000),
    "vww_96_int8": (24_104_078, 103_392),
    "pretrainedResnet_quant": (29_864_181, 55_712),
    "ad01_int8": (583_517, 3_424),
    "person_detection": (22_930_603, 85_024),
    "micro_speech": (1_495_619, 7_312),
    "str_ww_ref_model": (None, 16_352),
    "hello_world": (None, 1_184),
}
