#!/usr/bin/python3
"""End-to-end tests of the kiln command line: inspect, run, bench and the error contract.

Usage: cli_test.py PATH_TO_KILN [unittest args]

Models are built with onnx.helper in a temporary directory; expected numbers (FLOPs, outputs)
are computed here by hand or with numpy, never copied from kiln's output.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

KILN = None
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXIT_ERROR = 2
COMMAND_TIMEOUT_S = 120
SEED = 1234

# Conv model: x[N,3,8,8] -> Conv(4 filters 3x3, pad 1) -> Relu -> Flatten -> Gemm(5) -> y[N,5]
CONV_CIN, CONV_COUT, CONV_K, CONV_HW, GEMM_OUT = 3, 4, 3, 8, 5
FLAT = CONV_COUT * CONV_HW * CONV_HW
# MLP model: x[N,4] -> MatMul(4x3) -> Add(3) -> Relu -> y[N,3]
MLP_IN, MLP_OUT = 4, 3


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def make_model(nodes, inputs, outputs, initializers, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    return helper.make_model(graph, opset_imports=[helper.make_operatorsetid("", 17)])


def bottleneck_model(rng):
    """1x1 16->32 + ReLU, then 3x3 32->32 with the first conv's output added back + ReLU: the
    shape the CPU build runs on 16-channel blocks."""
    w1 = (rng.standard_normal((32, 16, 1, 1)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((32, 32, 3, 3)) * 0.1).astype(np.float32)
    b2 = rng.standard_normal(32).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"], name="residual"),
        helper.make_node("Relu", ["s"], ["y"], name="relu2"),
    ]
    return make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, 10, 10])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 32, 10, 10])],
                      [numpy_helper.from_array(a, n) for n, a in [("w1", w1), ("w2", w2), ("b2", b2)]], "bottleneck")


def conv_gemm_model(rng):
    w = rng.standard_normal((CONV_COUT, CONV_CIN, CONV_K, CONV_K)).astype(np.float32)
    b = rng.standard_normal(CONV_COUT).astype(np.float32)
    fw = rng.standard_normal((GEMM_OUT, FLAT)).astype(np.float32)
    fb = rng.standard_normal(GEMM_OUT).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    return make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", CONV_CIN, CONV_HW, CONV_HW])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", GEMM_OUT])],
                      [numpy_helper.from_array(a, n) for n, a in [("w", w), ("b", b), ("fw", fw), ("fb", fb)]],
                      "conv_gemm")


def mlp_model(rng, batch="N"):
    w = rng.standard_normal((MLP_IN, MLP_OUT)).astype(np.float32)
    b = rng.standard_normal(MLP_OUT).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="matmul"),
        helper.make_node("Add", ["m", "b"], ["a"], name="add"),
        helper.make_node("Relu", ["a"], ["out/y:0"], name="relu"),
    ]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, MLP_IN])],
                       [helper.make_tensor_value_info("out/y:0", TensorProto.FLOAT, [batch, MLP_OUT])],
                       [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")], "mlp")
    return model, w, b


def int_model():
    """ids int64[N,6] + 0 -> int64: shows the random integers kiln generated."""
    zero = numpy_helper.from_array(np.zeros(1, np.int64), "zero")
    nodes = [helper.make_node("Add", ["ids", "zero"], ["ids_out"], name="add")]
    return make_model(nodes, [helper.make_tensor_value_info("ids", TensorProto.INT64, ["N", 6])],
                      [helper.make_tensor_value_info("ids_out", TensorProto.INT64, ["N", 6])], [zero], "ints")


def fmod_model():
    """x float[2,8] -> Relu -> Mod(fmod=1) by 0.75: the CPU backend has no Mod kernel, the reference does."""
    divisor = numpy_helper.from_array(np.array([0.75], np.float32), "divisor")
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="relu"),
             helper.make_node("Mod", ["r", "divisor"], ["y"], name="fmod", fmod=1)]
    return make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])], [divisor], "fmod")


def run_kiln(*args):
    return subprocess.run([KILN, *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


class KilnTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kiln_cli_test_")
        cls.rng = np.random.default_rng(SEED)
        cls.conv_path = save(conv_gemm_model(cls.rng), os.path.join(cls.tmp, "conv_gemm.onnx"))
        model, cls.mlp_w, cls.mlp_b = mlp_model(cls.rng)
        cls.mlp_path = save(model, os.path.join(cls.tmp, "mlp.onnx"))
        static_model, _, _ = mlp_model(cls.rng, batch=2)
        cls.static_path = save(static_model, os.path.join(cls.tmp, "mlp_static.onnx"))
        cls.int_path = save(int_model(), os.path.join(cls.tmp, "ints.onnx"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def ok(self, *args):
        r = run_kiln(*args)
        self.assertEqual(r.returncode, 0, f"kiln {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r

    def fails(self, *args, mentions=()):
        r = run_kiln(*args)
        self.assertEqual(r.returncode, EXIT_ERROR,
                         f"kiln {' '.join(args)}: expected exit {EXIT_ERROR}, got {r.returncode}\n{r.stdout}\n{r.stderr}")
        lines = r.stderr.strip().splitlines()
        self.assertTrue(lines and lines[-1].startswith("kiln: error: "), f"stderr: {r.stderr!r}")
        error_lines = [l for l in lines if l.startswith("kiln: error: ")]
        self.assertEqual(len(error_lines), 1, r.stderr)
        for word in mentions:
            self.assertIn(word, error_lines[0], f"error should mention {word!r}")
        return error_lines[0]


class GeneralTest(KilnTestCase):
    def test_version_and_help(self):
        self.assertIn("kiln", self.ok("--version").stdout)
        help_text = self.ok("--help").stdout
        for sub in ("inspect", "run", "bench"):
            self.assertIn(sub, help_text)
        for sub in ("inspect", "run", "bench"):
            self.assertIn("--shapes", self.ok(sub, "--help").stdout)

    def test_usage_errors_exit_2(self):
        self.fails()
        self.fails("frobnicate")
        self.fails("inspect")
        self.fails("run", self.mlp_path, "--no-such-flag")
        self.fails("bench", self.mlp_path, "--iterations", "0")
        self.fails("bench", self.mlp_path, "--threads", "0")
        self.fails("bench", self.mlp_path, "--duration", "-1")
        self.fails("run", self.mlp_path, "--seed", "-1")
        self.fails("run", self.mlp_path, "--seed", "abc")
        self.fails("bench", self.mlp_path, "--iterations", "0", mentions=("--iterations", "at least 1"))


class InspectTest(KilnTestCase):
    def conv_flops(self, n):
        return 2 * n * CONV_COUT * CONV_HW * CONV_HW * CONV_CIN * CONV_K * CONV_K

    def test_json_with_fixed_shapes(self):
        n = 2
        report = json.loads(self.ok("inspect", self.conv_path, "--json", "--shapes", f"x:{n}x3x8x8").stdout)
        self.assertEqual(report["inputs"], [{"name": "x", "dtype": "float32", "shape": [n, 3, 8, 8]}])
        self.assertEqual(report["outputs"][0]["shape"], [n, GEMM_OUT])
        nodes = {node["name"]: node for node in report["nodes"]}
        self.assertEqual([node["op"] for node in report["nodes"]], ["Conv", "Relu", "Flatten", "Gemm"])
        self.assertEqual(nodes["conv"]["flops"], self.conv_flops(n))
        mnk = n * GEMM_OUT * FLAT
        self.assertGreaterEqual(nodes["fc"]["flops"], 2 * mnk)
        self.assertLessEqual(nodes["fc"]["flops"], 2 * mnk + 3 * n * GEMM_OUT)  # alpha/beta/bias epilogue
        self.assertEqual(nodes["relu"]["flops"], n * FLAT)
        self.assertEqual(nodes["conv"]["outputs"][0]["shape"], [n, CONV_COUT, CONV_HW, CONV_HW])
        x_bytes = n * CONV_CIN * CONV_HW * CONV_HW * 4
        conv_out_bytes = n * FLAT * 4
        weight_bytes = (CONV_COUT * CONV_CIN * CONV_K * CONV_K + CONV_COUT) * 4
        self.assertEqual(nodes["conv"]["bytes"], x_bytes + weight_bytes + conv_out_bytes)

        totals = report["totals"]
        params = CONV_COUT * CONV_CIN * CONV_K * CONV_K + CONV_COUT + GEMM_OUT * FLAT + GEMM_OUT
        self.assertEqual(totals["nodes"], 4)
        self.assertEqual(totals["parameters"], params)
        self.assertEqual(totals["parameter_bytes"], 4 * params)
        self.assertAlmostEqual(totals["flops"], sum(node["flops"] for node in report["nodes"]))
        activations = x_bytes + 3 * conv_out_bytes + n * GEMM_OUT * 4  # x, conv, relu, flatten, y
        self.assertEqual(totals["activation_bytes"], activations)

    def test_json_keeps_symbolic_dims(self):
        report = json.loads(self.ok("inspect", self.conv_path, "--json").stdout)
        self.assertEqual(report["inputs"][0]["shape"], ["N", 3, 8, 8])
        self.assertEqual(report["nodes"][0]["outputs"][0]["shape"][0], "N")
        self.assertIsNone(report["totals"]["flops"])

    def test_text_table(self):
        out = self.ok("inspect", self.conv_path, "--shapes", "x:1x3x8x8").stdout
        for word in ("Inputs", "Outputs", "Nodes", "Totals", "Conv", "Gemm", "conv", "fc", "[1,3,8,8]", "[1,5]"):
            self.assertIn(word, out)
        report = json.loads(self.ok("inspect", self.conv_path, "--json", "--shapes", "x:1x3x8x8").stdout)
        self.assertIn(f"({report['totals']['flops']:.0f})", out)  # the exact total next to the rounded one
        symbolic = self.ok("inspect", self.conv_path).stdout
        self.assertIn("[N,3,8,8]", symbolic)

    def test_example_model(self):
        model = os.path.join(REPO_ROOT, "examples", "tiny_cnn.onnx")
        report = json.loads(self.ok("inspect", model, "--json", "--shapes", "image:2x3x32x32").stdout)
        self.assertEqual(report["outputs"][0]["shape"], [2, 10])
        self.assertIsNotNone(report["totals"]["flops"])
        self.assertGreater(report["totals"]["flops"], 0)


class RunTest(KilnTestCase):
    def test_output_matches_numpy_for_given_input(self):
        x = self.rng.uniform(-2, 2, (3, MLP_IN)).astype(np.float32)
        np.save(self.path("x.npy"), x)
        out_dir = self.path("run_out")
        r = self.ok("run", self.mlp_path, "--input", f"x={self.path('x.npy')}", "--output-dir", out_dir)
        self.assertIn("out/y:0", r.stdout)
        files = os.listdir(out_dir)
        self.assertEqual(len(files), 1)
        self.assertNotIn("/", files[0])
        y = np.load(os.path.join(out_dir, files[0]))
        expected = np.maximum(x @ self.mlp_w + self.mlp_b, 0)
        self.assertEqual(y.dtype, np.float32)
        np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)

    def test_initializers_listed_as_inputs_keep_their_values(self):
        # Older exporters list every initializer as a graph input too; kiln must not replace the
        # weights with random data.
        model, w, b = mlp_model(self.rng)
        model.graph.input.extend([helper.make_tensor_value_info("w", TensorProto.FLOAT, [MLP_IN, MLP_OUT]),
                                  helper.make_tensor_value_info("b", TensorProto.FLOAT, [MLP_OUT])])
        path = save(model, self.path("init_inputs.onnx"))
        x = self.rng.uniform(-1, 1, (2, MLP_IN)).astype(np.float32)
        np.save(self.path("x2.npy"), x)
        out_dir = self.path("init_out")
        self.ok("run", path, "--input", f"x={self.path('x2.npy')}", "--output-dir", out_dir)
        y = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
        np.testing.assert_allclose(y, np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-5)

    def test_random_inputs_are_seeded(self):
        def run(seed, name):
            out_dir = self.path(name)
            self.ok("run", self.mlp_path, "--output-dir", out_dir, "--seed", str(seed))
            return np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
        a, b, c = run(7, "seed_a"), run(7, "seed_b"), run(8, "seed_c")
        self.assertEqual(a.shape, (1, MLP_OUT))  # dynamic N defaults to 1
        np.testing.assert_array_equal(a, b)
        self.assertFalse(np.array_equal(a, c) and np.any(a != 0))

    def test_shapes_sets_dynamic_dims(self):
        out_dir = self.path("shapes_out")
        self.ok("run", self.mlp_path, "--shapes", "x:5x4", "--output-dir", out_dir)
        self.assertEqual(np.load(os.path.join(out_dir, os.listdir(out_dir)[0])).shape, (5, MLP_OUT))

    def test_integer_inputs_are_small(self):
        out_dir = self.path("int_out")
        self.ok("run", self.int_path, "--shapes", "ids:16x6", "--output-dir", out_dir)
        ids = np.load(os.path.join(out_dir, "ids_out.npy"))
        self.assertEqual(ids.dtype, np.int64)
        self.assertEqual(ids.shape, (16, 6))
        self.assertTrue(np.all((ids >= 0) & (ids < 8)))
        self.assertGreater(len(np.unique(ids)), 1)

    def test_example_model_softmax(self):
        model = os.path.join(REPO_ROOT, "examples", "tiny_cnn.onnx")
        out_dir = self.path("cnn_out")
        self.ok("run", model, "--shapes", "image:2x3x32x32", "--output-dir", out_dir)
        p = np.load(os.path.join(out_dir, "probabilities.npy"))
        self.assertEqual(p.shape, (2, 10))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


class BenchTest(KilnTestCase):
    def check_report(self, path, batch, threads):
        with open(path) as f:
            report = json.load(f)
        for key in ("throughput_per_s", "queries_per_s", "latency_ms", "batch", "threads", "iterations", "model"):
            self.assertIn(key, report)
        lat = report["latency_ms"]
        for key in ("min", "mean", "p50", "p90", "p95", "p99", "max"):
            self.assertIn(key, lat)
        self.assertLessEqual(lat["min"], lat["p50"])
        self.assertLessEqual(lat["p50"], lat["p90"])
        self.assertLessEqual(lat["p90"], lat["p95"])
        self.assertLessEqual(lat["p95"], lat["p99"])
        self.assertLessEqual(lat["p99"], lat["max"])
        self.assertLessEqual(lat["min"], lat["mean"])
        self.assertLessEqual(lat["mean"], lat["max"])
        self.assertGreater(report["queries_per_s"], 0)
        self.assertAlmostEqual(report["throughput_per_s"], batch * report["queries_per_s"], delta=1e-6 * report["throughput_per_s"])
        self.assertEqual(report["batch"], batch)
        self.assertEqual(report["threads"], threads)
        self.assertGreaterEqual(report["iterations"], 5)

    def test_json_export(self):
        path = self.path("bench.json")
        out = self.ok("bench", self.mlp_path, "--batch", "4", "--iterations", "5", "--duration", "0.2",
                      "--warmup", "0.05", "--export-json", path).stdout
        for word in ("inferences/s", "samples/s", "p99", "median"):
            self.assertIn(word, out)
        self.check_report(path, batch=4, threads=1)

    def test_threads(self):
        path = self.path("bench_threads.json")
        self.ok("bench", self.conv_path, "--batch", "2", "--threads", "2", "--iterations", "6", "--duration", "0",
                "--warmup", "0", "--export-json", path)
        self.check_report(path, batch=2, threads=2)

    def test_batch_on_static_model(self):
        self.ok("bench", self.static_path, "--batch", "2", "--iterations", "1", "--duration", "0", "--warmup", "0")
        self.fails("bench", self.static_path, "--batch", "3", "--duration", "0", mentions=("--batch", "'x'"))


class BadInputTest(KilnTestCase):
    def test_missing_model(self):
        missing = self.path("nope.onnx")
        for cmd in ("inspect", "run", "bench"):
            self.fails(cmd, missing, mentions=("nope.onnx",))
            self.fails(cmd, self.tmp, mentions=("directory",))

    def test_truncated_and_corrupt_model(self):
        with open(self.conv_path, "rb") as f:
            data = f.read()
        truncated = self.path("truncated.onnx")
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 2])
        corrupt = self.path("corrupt.onnx")
        with open(corrupt, "wb") as f:
            f.write(np.random.default_rng(SEED).integers(0, 256, 4096, dtype=np.uint8).tobytes())
        empty = self.path("empty.onnx")
        open(empty, "wb").close()
        for path in (truncated, corrupt, empty):
            for cmd in ("inspect", "run"):
                self.fails(cmd, path)

    def test_missing_external_data(self):
        model, _, _ = mlp_model(self.rng)
        ext_dir = self.path("external")
        os.makedirs(ext_dir, exist_ok=True)
        path = os.path.join(ext_dir, "ext.onnx")
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        self.ok("inspect", path)
        os.remove(os.path.join(ext_dir, "weights.bin"))
        self.fails("inspect", path, mentions=("weights.bin",))
        self.fails("run", path, mentions=("weights.bin",))

    def test_wrong_input_name_shape_dtype(self):
        np.save(self.path("good.npy"), np.ones((2, MLP_IN), np.float32))
        np.save(self.path("bad_shape.npy"), np.ones((2, MLP_IN + 1), np.float32))
        np.save(self.path("bad_rank.npy"), np.ones((MLP_IN,), np.float32))
        np.save(self.path("bad_dtype.npy"), np.ones((2, MLP_IN), np.float64))
        self.fails("run", self.mlp_path, "--input", f"nosuch={self.path('good.npy')}", mentions=("nosuch",))
        self.fails("run", self.mlp_path, "--input", f"x={self.path('bad_shape.npy')}", mentions=("'x'", "2x5"))
        self.fails("run", self.mlp_path, "--input", f"x={self.path('bad_rank.npy')}", mentions=("'x'",))
        self.fails("run", self.mlp_path, "--input", f"x={self.path('bad_dtype.npy')}", mentions=("float64", "float32"))
        self.fails("run", self.mlp_path, "--input", "x", mentions=("NAME=FILE",))
        self.fails("run", self.mlp_path, "--input", f"x={self.path('missing.npy')}", mentions=("missing.npy",))

    def test_unreadable_npy(self):
        garbage = self.path("garbage.npy")
        with open(garbage, "wb") as f:
            f.write(b"this is not numpy data at all")
        good = self.path("full.npy")
        np.save(good, np.ones((2, MLP_IN), np.float32))
        truncated = self.path("truncated.npy")
        with open(good, "rb") as f:
            data = f.read()
        with open(truncated, "wb") as f:
            f.write(data[:-5])
        fortran = self.path("fortran.npy")
        np.save(fortran, np.asfortranarray(np.ones((2, MLP_IN), np.float32)))
        for path, word in ((garbage, "garbage.npy"), (truncated, "truncated"), (fortran, "Fortran")):
            self.fails("run", self.mlp_path, "--input", f"x={path}", mentions=(word,))

    def test_malformed_shapes(self):
        for spec, word in (("x:2xfoo", "2xfoo"), ("x", "NAME:DxDxD"), ("x:", "NAME:DxDxD"), ("nosuch:1x4", "nosuch"),
                           ("x:1x4,x:2x4", "more than once"), ("x:1x2x3", "'x'"), ("x:2x5", "'x'")):
            for cmd in ("inspect", "run", "bench"):
                extra = ("--duration", "0", "--warmup", "0") if cmd == "bench" else ()
                with self.subTest(spec=spec, cmd=cmd):
                    self.fails(cmd, self.mlp_path, "--shapes", spec, *extra, mentions=(word,))

    def test_unwritable_output(self):
        blocker = self.path("a_file")
        open(blocker, "w").close()
        self.fails("run", self.mlp_path, "--output-dir", blocker, mentions=("a_file",))
        self.fails("bench", self.mlp_path, "--iterations", "1", "--duration", "0", "--warmup", "0",
                   "--export-json", os.path.join(blocker, "x.json"), mentions=("x.json",))


class BuildTest(KilnTestCase):
    """kiln build -> .plan, and plans in inspect/run/bench; expected values from numpy."""

    def build(self, model, name, *args):
        plan = self.path(name)
        r = self.ok("build", model, "-o", plan, "--backend", "reference", *args)
        self.assertIn("Built", r.stdout)
        self.assertTrue(os.path.getsize(plan) > 24)
        return plan, r

    def test_optimized_plan_fuses_conv_relu_and_gemm(self):
        plan, _ = self.build(self.conv_path, "conv_fused.plan", "--shapes", "x:2x3x8x8")
        info = json.loads(self.ok("inspect", plan, "--json").stdout)
        ops = [s["op"] for s in info["profiles"][0]["steps"]]
        self.assertEqual(ops, ["FusedConv", "Flatten", "FusedMatMul"])

    def test_plan_runs_and_matches_numpy(self):
        plan, r = self.build(self.mlp_path, "mlp.plan", "--batch", "3")
        self.assertIn("Steps:", r.stdout)
        self.assertIn("build:", r.stderr, "the build shows progress")
        x = self.rng.uniform(-2, 2, (3, MLP_IN)).astype(np.float32)
        np.save(self.path("xb.npy"), x)
        out_dir = self.path("plan_out")
        self.ok("run", plan, "--input", f"x={self.path('xb.npy')}", "--output-dir", out_dir)
        y = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
        np.testing.assert_allclose(y, np.maximum(x @ self.mlp_w + self.mlp_b, 0), rtol=1e-5, atol=1e-5)

    def test_plan_inspect_lists_steps_and_memory(self):
        # Unoptimized, so Conv and Relu stay two steps and the memory plan has a buffer to reuse.
        plan, _ = self.build(self.conv_path, "conv.plan", "--shapes", "x:2x3x8x8", "--no-optimize")
        info = json.loads(self.ok("inspect", plan, "--json").stdout)
        self.assertEqual(info["device_kind"], "host")
        self.assertEqual(info["precision"], "fp32")
        profile = info["profiles"][0]
        ops = [s["op"] for s in profile["steps"]]
        self.assertIn("Conv", ops)
        flatten = [s for s in profile["steps"] if s["op"] == "Flatten"]
        self.assertEqual(len(flatten), 1)
        self.assertEqual(flatten[0]["backend"], "", "Flatten is a view, not a kernel")
        self.assertLess(profile["arena_bytes"], profile["naive_activation_bytes"])
        text = self.ok("inspect", plan).stdout
        self.assertIn("Memory: activations", text)

    def test_plan_bench_reports_device_split_and_profile(self):
        plan, _ = self.build(self.conv_path, "conv_bench.plan", "--batch", "2")
        r = self.ok("bench", plan, "--iterations", "5", "--duration", "0", "--warmup", "0", "--dump-profile")
        self.assertIn("H2D", r.stdout)
        self.assertIn("Per-step profile", r.stdout)
        self.assertIn("Conv", r.stdout)

    def test_fp16_plan_is_close_to_fp32(self):
        plan, _ = self.build(self.conv_path, "conv16.plan", "--batch", "2", "--fp16")
        info = json.loads(self.ok("inspect", plan, "--json").stdout)
        self.assertEqual(info["precision"], "fp16")
        self.assertIn("float16", [s["dtype"] for s in info["profiles"][0]["steps"]])
        x = self.rng.uniform(-1, 1, (2, CONV_CIN, CONV_HW, CONV_HW)).astype(np.float32)
        np.save(self.path("xc.npy"), x)
        outs = []
        for model in (plan, self.conv_path):
            out_dir = self.path(f"o_{os.path.basename(model)}")
            self.ok("run", model, "--input", f"x={self.path('xc.npy')}", "--output-dir", out_dir)
            outs.append(np.load(os.path.join(out_dir, os.listdir(out_dir)[0])))
        scale = max(1.0, float(np.abs(outs[1]).max()))
        self.assertLess(float(np.abs(outs[0] - outs[1]).max()) / scale, 1e-2)

    def test_low_precision_io_plan_takes_and_gives_float16(self):
        plan, _ = self.build(self.conv_path, "conv16io.plan", "--batch", "2", "--fp16", "--low-precision-io")
        info = json.loads(self.ok("inspect", plan, "--json").stdout)
        self.assertEqual([i["dtype"] for i in info["profiles"][0]["inputs"]], ["float16"])
        self.assertNotIn("Cast", [s["op"] for s in info["profiles"][0]["steps"]])
        x = self.rng.uniform(-1, 1, (2, CONV_CIN, CONV_HW, CONV_HW)).astype(np.float32)
        np.save(self.path("xc16.npy"), x.astype(np.float16))
        np.save(self.path("xc32.npy"), x)
        out_dir = self.path("o_conv16io")
        self.ok("run", plan, "--input", f"x={self.path('xc16.npy')}", "--output-dir", out_dir)
        y16 = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
        self.assertEqual(y16.dtype, np.float16)
        ref_dir = self.path("o_conv32")
        self.ok("run", self.conv_path, "--input", f"x={self.path('xc32.npy')}", "--output-dir", ref_dir)
        y32 = np.load(os.path.join(ref_dir, os.listdir(ref_dir)[0]))
        scale = max(1.0, float(np.abs(y32).max()))
        self.assertLess(float(np.abs(y16.astype(np.float32) - y32).max()) / scale, 1e-2)
        # float32 data for a float16 input is refused, naming the input and both dtypes.
        self.fails("run", plan, "--input", f"x={self.path('xc32.npy')}", mentions=("float16",))
        self.fails("build", self.conv_path, "-o", self.path("bad.plan"), "--low-precision-io", mentions=("--fp16",))

    def test_cpu_build_runs_convs_on_16_channel_blocks(self):
        model = save(bottleneck_model(self.rng), self.path("bottleneck.onnx"))
        r = self.ok("inspect", model, "--passes", "--cpu", "--shapes", "x:2x16x10x10", "--dump-after", "channel-blocking")
        self.assertIn("channel-blocking", r.stdout)
        self.assertEqual(r.stdout.count("channel_block=16"), 2, r.stdout)
        plain = self.ok("inspect", model, "--passes", "--shapes", "x:2x16x10x10")
        self.assertNotIn("channel-blocking", plain.stdout)
        plan = self.path("bottleneck.plan")
        self.ok("build", model, "-o", plan, "--batch", "2", "--backend", "cpu")
        steps = json.loads(self.ok("inspect", plan, "--json").stdout)["profiles"][0]["steps"]
        self.assertEqual(sum(s["name"].endswith("/to_blocked16") for s in steps), 1, steps)
        x = self.rng.uniform(-1, 1, (2, 16, 10, 10)).astype(np.float32)
        np.save(self.path("xb.npy"), x)
        outs = []
        for m in (plan, model):  # the CPU engine and the reference executor on the ONNX file
            out_dir = self.path(f"ob_{os.path.basename(m)}")
            self.ok("run", m, "--input", f"x={self.path('xb.npy')}", "--output-dir", out_dir)
            outs.append(np.load(os.path.join(out_dir, os.listdir(out_dir)[0])))
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-4)

    def test_profiles_run_exact_and_padded_batches(self):
        plan, r = self.build(self.mlp_path, "mlp_profiles.plan", "--batch", "1,4")
        self.assertIn("Profiles: 2", r.stdout)
        info = json.loads(self.ok("inspect", plan, "--json").stdout)
        self.assertEqual([p["inputs"][0]["shape"][0] for p in info["profiles"]], [1, 4])
        for batch in (1, 2, 4):  # 2 runs on the batch-4 profile, padded
            x = self.rng.uniform(-2, 2, (batch, MLP_IN)).astype(np.float32)
            np.save(self.path(f"xp{batch}.npy"), x)
            out_dir = self.path(f"profile_out_{batch}")
            self.ok("run", plan, "--input", f"x={self.path(f'xp{batch}.npy')}", "--output-dir", out_dir)
            y = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
            self.assertEqual(y.shape, (batch, MLP_OUT))
            np.testing.assert_allclose(y, np.maximum(x @ self.mlp_w + self.mlp_b, 0), rtol=1e-5, atol=1e-5)
        np.save(self.path("xp5.npy"), np.zeros((5, MLP_IN), np.float32))
        self.fails("run", plan, "--input", f"x={self.path('xp5.npy')}", mentions=("no profile",))
        ranged, r = self.build(self.mlp_path, "mlp_ranged.plan", "--min-shapes", "x:1x4", "--max-shapes", "x:16x4")
        info = json.loads(self.ok("inspect", ranged, "--json").stdout)
        self.assertEqual([p["inputs"][0]["shape"][0] for p in info["profiles"]], [1, 2, 4, 8, 16])

    def test_engine_backend_option_on_onnx(self):
        r = self.ok("bench", self.mlp_path, "--batch", "2", "--backend", "reference", "--iterations", "3",
                    "--duration", "0", "--warmup", "0")
        self.assertIn("engine: host", r.stdout)

    def test_backend_list_falls_back_for_unsupported_nodes(self):
        model = save(fmod_model(), self.path("fmod.onnx"))
        x = self.rng.standard_normal((2, 8)).astype(np.float32) * 3
        np.save(self.path("fmod_x.npy"), x)
        expected = np.fmod(np.maximum(x, 0), np.float32(0.75))
        self.fails("run", model, "--backend", "cpu", mentions=("Mod 'fmod'", "--backend cpu,reference"))
        out_dir = self.path("fmod_out")
        self.ok("run", model, "--backend", "cpu,reference", "--input", f"x={self.path('fmod_x.npy')}",
                "--output-dir", out_dir)
        np.testing.assert_allclose(np.load(os.path.join(out_dir, "y.npy")), expected, rtol=1e-6, atol=1e-6)
        r = self.ok("bench", model, "--backend", "cpu,reference", "--iterations", "3", "--duration", "0",
                    "--warmup", "0")
        self.assertIn("engine: host", r.stdout)
        plan = self.path("fmod.plan")
        self.ok("build", model, "-o", plan, "--backend", "cpu,reference")
        steps = json.loads(self.ok("inspect", plan, "--json").stdout)["profiles"][0]["steps"]
        self.assertEqual({s["op"]: s["backend"] for s in steps}, {"Relu": "cpu", "Mod": "reference"})

    def test_build_verbose_lists_the_tactics_it_timed(self):
        # tiny_cnn's convolutions have two oneDNN tactics each (plain and blocked layouts).
        model = os.path.join(REPO_ROOT, "examples", "tiny_cnn.onnx")
        r = self.ok("build", model, "-o", self.path("verbose.plan"), "--backend", "cpu", "--verbose")
        lines = [line for line in r.stdout.splitlines() if line.startswith("tactic ")]
        timed = int(re.search(r"Tactics timed: (\d+)", r.stdout).group(1))
        self.assertGreater(timed, 0, r.stdout)
        self.assertGreaterEqual(len(lines), 2 * timed, r.stdout)  # every timed node had at least two candidates
        for line in lines:
            self.assertRegex(line, r"^tactic \S+: .+ \d+\.\d{4} ms")
        quiet = self.ok("build", model, "-o", self.path("quiet.plan"), "--backend", "cpu")
        self.assertNotIn("\ntactic ", "\n" + quiet.stdout)

    def test_cpu_threads_per_session(self):
        plan = self.path("mlp_cpu.plan")
        self.ok("build", self.mlp_path, "-o", plan, "--backend", "cpu", "--batch", "3")
        x = self.rng.uniform(-2, 2, (3, MLP_IN)).astype(np.float32)
        np.save(self.path("xt.npy"), x)
        expected = np.maximum(x @ self.mlp_w + self.mlp_b, 0)
        for threads in ("1", "2"):
            out_dir = self.path(f"threads_out_{threads}")
            self.ok("run", plan, "--cpu-threads", threads, "--input", f"x={self.path('xt.npy')}", "--output-dir", out_dir)
            y = np.load(os.path.join(out_dir, os.listdir(out_dir)[0]))
            np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)
        r = self.ok("bench", plan, "--cpu-threads", "1", "--iterations", "3", "--duration", "0", "--warmup", "0")
        self.assertIn("CPU kernels on 1 thread)", r.stdout)
        r = self.ok("bench", self.mlp_path, "--backend", "cpu", "--batch", "2", "--cpu-threads", "2", "--iterations", "3",
                    "--duration", "0", "--warmup", "0")
        self.assertIn("CPU kernels on 2 threads", r.stdout)
        self.fails("bench", plan, "--cpu-threads", "0", mentions=("--cpu-threads",))

    def test_build_errors(self):
        self.fails("build", self.mlp_path, "-o", self.path("x.plan"), "--backend", "nosuch", mentions=("nosuch",))
        self.fails("build", self.mlp_path, "-o", self.path("x.plan"), "--fp16", "--bf16", mentions=("at most one",))
        self.fails("build", self.mlp_path, "-o", os.path.join(self.path("missing_dir"), "x.plan"), "--backend",
                   "reference", mentions=("x.plan",))
        plan, _ = self.build(self.mlp_path, "mlp_err.plan", "--batch", "2")
        self.fails("run", plan, "--shapes", "x:5x4", mentions=("'x'",))
        self.fails("run", plan, "--backend", "reference", mentions=("plan",))
        with open(plan, "rb") as fh:
            data = fh.read()
        broken = self.path("broken.plan")
        with open(broken, "wb") as fh:
            fh.write(data[: len(data) // 2])
        self.fails("run", broken, mentions=("truncated",))
        self.fails("inspect", broken, mentions=("truncated",))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: cli_test.py PATH_TO_KILN [unittest args]")
    KILN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
