// nst_native: oneDNN convolutions (ordinary and depthwise) and matrix products on memory the caller
// owns (the WebAssembly heap of tfjs' wasm backend), for the `native` backend (src/lib/native/); a
// reversal, whose wasm kernel is a generic per-element loop (~6% of an iteration at 256 px, for the
// RGB -> BGR flip); and the max-pooling gradient, which wasm gets wrong for maxima <= 0.
//
// Tensors arrive as Float32Array views; their data pointers are used directly (no copy). Layouts are
// tfjs': activations NHWC, filters [kh, kw, in, out] (oneDNN's nhwc and hwio tags), matrices row-major.
//
// A convolution plan is made once per (filter, shape): it holds the primitive and the filter reordered
// into the primitive's own format (for Winograd, already transformed). The algorithm is fixed per
// shape by a rule (winogradPays): direct convolution on NHWC, or Winograd (oneDNN 2.x, avx512_core,
// 3x3 stride 1), which needs the nChw16c layout and so costs a reorder of the input and of the output
// each call. oneDNN's own convolution_auto never picks Winograd for a batch of one, where it is 1.4-2x
// faster on VGG's layers (docs/performance.md).
#include <node_api.h>
#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}
dnnl::stream& queue() {
  static dnnl::stream s(cpu());
  return s;
}

// Grow-only, 64-byte aligned, zero-filled scratch buffers shared by every plan (calls never overlap:
// they all come from the one JavaScript thread).
struct Scratch {
  void* ptr = nullptr;
  size_t bytes = 0;
  void* get(size_t want) {
    if (want > bytes) {
      std::free(ptr);
      size_t rounded = (want + 63) / 64 * 64;
      ptr = std::aligned_alloc(64, rounded);
      if (!ptr) throw std::bad_alloc();
      std::memset(ptr, 0, rounded);
      bytes = rounded;
    }
    return ptr;
  }
};
Scratch scratch[2];  // the blocked input and output of Winograd plans

enum class Algo { Direct, Winograd };
const char* algoName(Algo a) { return a == Algo::Winograd ? "winograd" : "direct"; }

// g: groups (1 for an ordinary convolution; ci for a depthwise one, whose tfjs filter [kh, kw, ci, co/ci]
// is oneDNN's grouped hwigo layout with one input channel per group).
struct ConvShape {
  int n, h, w, ci, co, kh, kw, sh, sw, dh, dw, padT, padL, padB, padR, oh, ow, g;
  bool relu, bias;
  std::string key() const {
    char buf[256];
    std::snprintf(buf, sizeof buf, "%d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d %d", n, h, w, ci, co, kh, kw, sh, sw, dh,
                  dw, padT, padL, padB, padR, oh, ow, g, relu, bias);
    return buf;
  }
};

struct ConvPlan {
  Algo algo;
  std::string impl;
  dnnl::convolution_forward conv;
  memory weights, x, y, bias;
  // Winograd only: the blocked copies and the reorders in and out of them.
  memory xBlocked, yBlocked;
  dnnl::reorder toBlocked, fromBlocked;
  size_t weightBytes = 0;

  void run(float* xp, const float* bp, float* yp) {
    auto& s = queue();
    x.set_data_handle(xp);
    y.set_data_handle(yp);
    if (bp) bias.set_data_handle(const_cast<float*>(bp));
    std::unordered_map<int, memory> args{{DNNL_ARG_WEIGHTS, weights}};
    if (bp) args[DNNL_ARG_BIAS] = bias;
    if (algo == Algo::Winograd) {
      xBlocked.set_data_handle(scratch[0].get(xBlocked.get_desc().get_size()));
      yBlocked.set_data_handle(scratch[1].get(yBlocked.get_desc().get_size()));
      toBlocked.execute(s, x, xBlocked);
      args[DNNL_ARG_SRC] = xBlocked;
      args[DNNL_ARG_DST] = yBlocked;
      conv.execute(s, args);
      fromBlocked.execute(s, yBlocked, y);
    } else {
      args[DNNL_ARG_SRC] = x;
      args[DNNL_ARG_DST] = y;
      conv.execute(s, args);
    }
    s.wait();
  }
};

// Builds a plan for one algorithm, or returns null when oneDNN has no implementation of it here.
std::unique_ptr<ConvPlan> makePlan(const ConvShape& c, Algo algo, const float* filter) {
  memory::dims src{c.n, c.ci, c.h, c.w}, dst{c.n, c.co, c.oh, c.ow}, bia{c.co};
  memory::dims wei = c.g == 1 ? memory::dims{c.co, c.ci, c.kh, c.kw} : memory::dims{c.g, c.co / c.g, c.ci / c.g, c.kh, c.kw};
  memory::dims strides{c.sh, c.sw}, dil{c.dh - 1, c.dw - 1}, padL{c.padT, c.padL}, padR{c.padB, c.padR};
  memory::desc xUser(src, dt::f32, tag::nhwc), yUser(dst, dt::f32, tag::nhwc);
  memory::desc xConv = algo == Algo::Winograd ? memory::desc(src, dt::f32, tag::nChw16c) : xUser;
  memory::desc yConv = algo == Algo::Winograd ? memory::desc(dst, dt::f32, tag::nChw16c) : yUser;
  memory::desc wAny(wei, dt::f32, tag::any), bDesc(bia, dt::f32, tag::x);
  auto alg = algo == Algo::Winograd ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
  dnnl::primitive_attr attr;
  if (c.relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  dnnl::convolution_forward::primitive_desc pd;
  try {
    auto d = c.bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg, xConv, wAny, bDesc, yConv, strides, dil, padL, padR)
                    : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, alg, xConv, wAny, yConv, strides, dil, padL, padR);
    pd = dnnl::convolution_forward::primitive_desc(d, attr, cpu());
  } catch (const dnnl::error&) {
    return nullptr;
  }
  auto plan = std::make_unique<ConvPlan>();
  plan->algo = algo;
  plan->impl = pd.impl_info_str();
  plan->conv = dnnl::convolution_forward(pd);
  plan->weights = memory(pd.weights_desc(), cpu());
  plan->weightBytes = pd.weights_desc().get_size();
  memory userWeights({wei, dt::f32, c.g == 1 ? tag::hwio : tag::hwigo}, cpu(), const_cast<float*>(filter));
  dnnl::reorder(userWeights, plan->weights).execute(queue(), userWeights, plan->weights);
  queue().wait();
  plan->x = memory(xUser, cpu(), DNNL_MEMORY_NONE);
  plan->y = memory(yUser, cpu(), DNNL_MEMORY_NONE);
  plan->bias = memory(bDesc, cpu(), DNNL_MEMORY_NONE);
  if (algo == Algo::Winograd) {
    plan->xBlocked = memory(xConv, cpu(), DNNL_MEMORY_NONE);
    plan->yBlocked = memory(yConv, cpu(), DNNL_MEMORY_NONE);
    plan->toBlocked = dnnl::reorder(plan->x, plan->xBlocked);
    plan->fromBlocked = dnnl::reorder(plan->yBlocked, plan->y);
  }
  return plan;
}

// Whether `auto` takes Winograd for this shape: a fixed rule, so that a run's arithmetic (and with it
// its result) is the same in every process. Measured per shape (docs/performance.md): Winograd is
// 0.33-0.86x of direct on 3x3 stride-1 layers with at least 64 channels in and out on maps of at least
// 32x32, and loses (1.2-7x) with few channels (conv1_1's 3, InceptionV3's 32) or on small maps.
bool winogradPays(const ConvShape& c) {
  return c.kh == 3 && c.kw == 3 && c.sh == 1 && c.sw == 1 && c.dh == 1 && c.dw == 1 && c.g == 1 && std::min(c.ci, c.co) >= 64 &&
         c.oh * c.ow >= 32 * 32;
}

std::unique_ptr<ConvPlan> planFor(const ConvShape& c, const std::string& choice, const float* filter) {
  const bool winograd = choice == "winograd" || (choice == "auto" && winogradPays(c));
  auto p = winograd ? makePlan(c, Algo::Winograd, filter) : nullptr;
  return p ? std::move(p) : makePlan(c, Algo::Direct, filter);
}

// ---- N-API plumbing -------------------------------------------------------------------------------

struct JsError {
  std::string message;
};

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw JsError{std::string("nst_native: ") + what};
}

float* floats(napi_env env, napi_value v, size_t* length, const char* what) {
  napi_typedarray_type type;
  size_t len;
  void* data;
  napi_value buffer;
  size_t offset;
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw JsError{std::string("nst_native: ") + what + " must be a Float32Array"};
  check(env, napi_get_typedarray_info(env, v, &type, &len, &data, &buffer, &offset), what);
  if (type != napi_float32_array) throw JsError{std::string("nst_native: ") + what + " must be a Float32Array"};
  if (length) *length = len;
  return static_cast<float*>(data);
}

int intProp(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  int32_t out;
  check(env, napi_get_named_property(env, obj, name, &v), name);
  if (napi_get_value_int32(env, v, &out) != napi_ok) throw JsError{std::string("nst_native: ") + name + " must be an integer"};
  return out;
}

bool boolProp(napi_env env, napi_value obj, const char* name) {
  napi_value v;
  bool out;
  check(env, napi_get_named_property(env, obj, name, &v), name);
  if (napi_get_value_bool(env, v, &out) != napi_ok) throw JsError{std::string("nst_native: ") + name + " must be a boolean"};
  return out;
}

std::string stringValue(napi_env env, napi_value v) {
  char buf[64];
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, sizeof buf, &len) != napi_ok) throw JsError{"nst_native: expected a string"};
  return std::string(buf, len);
}

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t want) {
  std::vector<napi_value> v(want);
  size_t argc = want;
  check(env, napi_get_cb_info(env, info, &argc, v.data(), nullptr, nullptr), "arguments");
  if (argc < want) throw JsError{"nst_native: expected " + std::to_string(want) + " arguments"};
  return v;
}

napi_value str(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

// Runs a binding body, turning C++ and oneDNN errors into JavaScript exceptions.
template <typename F>
napi_value guarded(napi_env env, F body) {
  try {
    return body();
  } catch (const JsError& e) {
    napi_throw_error(env, nullptr, e.message.c_str());
  } catch (const dnnl::error& e) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + e.what()).c_str());
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string("nst_native: ") + e.what()).c_str());
  }
  return nullptr;
}

// What a JavaScript plan handle holds: the plan until convRelease (or the handle's collection) frees it.
struct PlanHandle {
  ConvPlan* plan;
};

void releasePlan(napi_env env, PlanHandle* h) {
  if (!h->plan) return;
  int64_t ignored;
  napi_adjust_external_memory(env, -static_cast<int64_t>(h->plan->weightBytes), &ignored);
  delete h->plan;
  h->plan = nullptr;
}

void finalizePlan(napi_env env, void* data, void*) {
  auto* h = static_cast<PlanHandle*>(data);
  releasePlan(env, h);
  delete h;
}

PlanHandle* handleOf(napi_env env, napi_value v) {
  void* data = nullptr;
  if (napi_get_value_external(env, v, &data) != napi_ok || !data) throw JsError{"nst_native: not a convolution plan"};
  return static_cast<PlanHandle*>(data);
}

ConvPlan* planOf(napi_env env, napi_value v) {
  ConvPlan* plan = handleOf(env, v)->plan;
  if (!plan) throw JsError{"nst_native: the convolution plan was released"};
  return plan;
}

// convPlan(shape, filter, choice: 'auto' | 'direct' | 'winograd') -> plan
napi_value ConvPlanNew(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 3);
    ConvShape c{};
    const char* names[] = {"n", "h", "w", "ci", "co", "kh", "kw", "sh", "sw", "dh", "dw", "padT", "padL", "padB", "padR", "oh", "ow", "g"};
    int* fields[] = {&c.n, &c.h, &c.w, &c.ci, &c.co, &c.kh, &c.kw, &c.sh, &c.sw, &c.dh, &c.dw, &c.padT, &c.padL, &c.padB, &c.padR, &c.oh, &c.ow, &c.g};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) *fields[i] = intProp(env, a[0], names[i]);
    c.relu = boolProp(env, a[0], "relu");
    c.bias = boolProp(env, a[0], "bias");
    size_t len;
    const float* filter = floats(env, a[1], &len, "filter");
    if (c.g < 1 || c.ci % c.g || c.co % c.g) throw JsError{"nst_native: the groups do not divide the channels"};
    if (len != size_t(c.kh) * c.kw * (c.ci / c.g) * c.co) throw JsError{"nst_native: the filter's size does not match its shape"};
    auto plan = planFor(c, stringValue(env, a[2]), filter);
    if (!plan) throw JsError{"nst_native: oneDNN has no convolution for " + c.key()};
    int64_t ignored;
    napi_adjust_external_memory(env, static_cast<int64_t>(plan->weightBytes), &ignored);
    napi_value out;
    auto* handle = new PlanHandle{plan.release()};
    check(env, napi_create_external(env, handle, finalizePlan, nullptr, &out), "plan");
    return out;
  });
}

// convRelease(plan): frees the plan (its primitive and reordered filter) now.
napi_value ConvRelease(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 1);
    releasePlan(env, handleOf(env, a[0]));
    return static_cast<napi_value>(nullptr);
  });
}

// convRun(plan, x, bias | null, y)
napi_value ConvRun(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 4);
    ConvPlan* plan = planOf(env, a[0]);
    napi_valuetype biasType;
    napi_typeof(env, a[2], &biasType);
    const float* bias = biasType == napi_null ? nullptr : floats(env, a[2], nullptr, "bias");
    plan->run(floats(env, a[1], nullptr, "x"), bias, floats(env, a[3], nullptr, "y"));
    return static_cast<napi_value>(nullptr);
  });
}

// convInfo(plan) -> 'winograd' | 'direct', oneDNN's implementation name
napi_value ConvInfo(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 1);
    ConvPlan* plan = planOf(env, a[0]);
    napi_value out;
    napi_create_object(env, &out);
    napi_set_named_property(env, out, "algorithm", str(env, algoName(plan->algo)));
    napi_set_named_property(env, out, "impl", str(env, plan->impl));
    napi_set_named_property(env, out, "weightBytes", num(env, double(plan->weightBytes)));
    return out;
  });
}

// matmul(a, b, c, batchA, batchB, m, n, k, transposeA, transposeB): c[i] = op(a[i]) op(b[i]), where a
// batch of 1 is broadcast; op(a) is m x k, op(b) k x n, all row-major.
std::map<std::string, dnnl::matmul> products;

napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 10);
    float* A = floats(env, a[0], nullptr, "a");
    float* B = floats(env, a[1], nullptr, "b");
    float* C = floats(env, a[2], nullptr, "c");
    int32_t v[5];
    for (int i = 0; i < 5; i++) check(env, napi_get_value_int32(env, a[3 + i], &v[i]), "matmul sizes");
    bool ta, tb;
    check(env, napi_get_value_bool(env, a[8], &ta), "transposeA");
    check(env, napi_get_value_bool(env, a[9], &tb), "transposeB");
    const memory::dim ba = v[0], bb = v[1], m = v[2], n = v[3], k = v[4];
    memory::desc ad({ba, m, k}, dt::f32, ta ? memory::dims{m * k, 1, m} : memory::dims{m * k, k, 1});
    memory::desc bd({bb, k, n}, dt::f32, tb ? memory::dims{k * n, 1, k} : memory::dims{k * n, n, 1});
    memory::desc cd({std::max(ba, bb), m, n}, dt::f32, memory::dims{m * n, n, 1});
    char key[128];
    std::snprintf(key, sizeof key, "%ld %ld %ld %ld %ld %d %d", long(ba), long(bb), long(m), long(n), long(k), ta, tb);
    auto found = products.find(key);
    if (found == products.end()) {
      if (products.size() > 256) products.clear();
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(ad, bd, cd), cpu());
      found = products.emplace(key, dnnl::matmul(pd)).first;
    }
    memory am(ad, cpu(), A), bm(bd, cpu(), B), cm(cd, cpu(), C);
    found->second.execute(queue(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
    queue().wait();
    return static_cast<napi_value>(nullptr);
  });
}

// y = x reversed along the axes flagged in `flip` (row-major, any rank): the innermost axis is copied
// (or read backwards) in one loop, the outer ones recursed over.
void reverseAxes(const float* x, float* y, const std::vector<int64_t>& shape, const std::vector<int64_t>& stride,
                 const std::vector<bool>& flip, size_t d) {
  const int64_t n = shape[d];
  if (d + 1 == shape.size()) {
    if (flip[d]) {
      for (int64_t i = 0; i < n; i++) y[i] = x[n - 1 - i];
    } else {
      std::memcpy(y, x, n * sizeof(float));
    }
    return;
  }
  for (int64_t i = 0; i < n; i++) reverseAxes(x + (flip[d] ? n - 1 - i : i) * stride[d], y + i * stride[d], shape, stride, flip, d + 1);
}

// reverse(x, y, shape: number[], axes: number[])
napi_value Reverse(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 4);
    size_t xn, yn;
    const float* x = floats(env, a[0], &xn, "x");
    float* y = floats(env, a[1], &yn, "y");
    auto ints = [&](napi_value arr, const char* what) {
      uint32_t len;
      check(env, napi_get_array_length(env, arr, &len), what);
      std::vector<int64_t> out(len);
      for (uint32_t i = 0; i < len; i++) {
        napi_value v;
        int32_t k;
        check(env, napi_get_element(env, arr, i, &v), what);
        check(env, napi_get_value_int32(env, v, &k), what);
        out[i] = k;
      }
      return out;
    };
    std::vector<int64_t> shape = ints(a[2], "shape"), axes = ints(a[3], "axes");
    size_t size = 1;
    for (auto n : shape) size *= size_t(n);
    if (shape.empty() || size != xn || size != yn) throw JsError{"nst_native: reverse: the shape does not match the arrays"};
    std::vector<bool> flip(shape.size(), false);
    for (auto ax : axes) {
      if (ax < 0 || size_t(ax) >= shape.size()) throw JsError{"nst_native: reverse: axis out of range"};
      flip[ax] = true;
    }
    std::vector<int64_t> stride(shape.size(), 1);
    for (size_t d = shape.size() - 1; d > 0; d--) stride[d - 1] = stride[d] * shape[d];
    if (size > 0) reverseAxes(x, y, shape, stride, flip, 0);
    return static_cast<napi_value>(nullptr);
  });
}

// best, at = the elementwise maximum of best and xp, and where it came from (pixel when xp wins). Built
// for each vector ISA and picked at load (the addon is compiled for the generic x86-64 baseline,
// where this select does not vectorise: ~9x slower on AVX-512).
__attribute__((target_clones("avx512f", "avx2", "default"))) void keepMaxima(const float* __restrict xp, float* __restrict best,
                                                                             int32_t* __restrict at, int32_t pixel, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    const bool gt = xp[k] > best[k];
    best[k] = gt ? xp[k] : best[k];
    at[k] = gt ? pixel : at[k];
  }
}

// maxPoolGrad(x, dy, dx, [n, h, w, c, oh, ow, kh, kw, sh, sw, padT, padL]): dx = the gradient of max
// pooling (NHWC), each window's dy going to its first maximum in row-major order (strict >, so ties
// keep the earlier element), the padding never winning; overlapping windows add up. The wasm kernel's
// starts its maxima from the smallest positive float, misplacing windows whose maximum is <= 0.
// Channels are innermost, so each window position is one pass over c contiguous values.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 4);
    size_t xn, dyn, dxn;
    const float* x = floats(env, a[0], &xn, "x");
    const float* dy = floats(env, a[1], &dyn, "dy");
    float* dx = floats(env, a[2], &dxn, "dx");
    int32_t v[12];
    for (uint32_t i = 0; i < 12; i++) {
      napi_value e;
      check(env, napi_get_element(env, a[3], i, &e), "pool geometry");
      check(env, napi_get_value_int32(env, e, &v[i]), "pool geometry");
    }
    const int64_t n = v[0], h = v[1], w = v[2], c = v[3], oh = v[4], ow = v[5], kh = v[6], kw = v[7], sh = v[8], sw = v[9], top = v[10], left = v[11];
    if (size_t(n * h * w * c) != xn || xn != dxn || size_t(n * oh * ow * c) != dyn) throw JsError{"nst_native: maxPoolGrad: the geometry does not match the arrays"};
    std::fill(dx, dx + dxn, 0.f);
    // Per output pixel: each window position's c values compared with the best so far; `at` holds the
    // pixel (row * w + column) of each channel's maximum; the first in-image position seeds the maxima.
    std::vector<float> bestBuf(c);
    std::vector<int32_t> atBuf(c);
    float* __restrict best = bestBuf.data();
    int32_t* __restrict at = atBuf.data();
    for (int64_t b = 0; b < n; b++) {
      const float* __restrict xb = x + b * h * w * c;
      float* __restrict dxb = dx + b * h * w * c;
      for (int64_t i = 0; i < oh; i++) {
        const int64_t r0 = std::max<int64_t>(i * sh - top, 0), r1 = std::min(i * sh - top + kh, h);
        for (int64_t j = 0; j < ow; j++) {
          const int64_t q0 = std::max<int64_t>(j * sw - left, 0), q1 = std::min(j * sw - left + kw, w);
          if (r0 >= r1 || q0 >= q1) continue;
          const int32_t seed = int32_t(r0 * w + q0);
          std::memcpy(best, xb + seed * c, c * sizeof(float));
          std::fill(at, at + c, seed);
          for (int64_t r = r0; r < r1; r++) {
            for (int64_t q = r == r0 ? q0 + 1 : q0; q < q1; q++) {
              const int32_t pixel = int32_t(r * w + q);
              const float* __restrict xp = xb + int64_t(pixel) * c;
              keepMaxima(xp, best, at, pixel, c);
            }
          }
          const float* __restrict g = dy + ((b * oh + i) * ow + j) * c;
          for (int64_t k = 0; k < c; k++) dxb[int64_t(at[k]) * c + k] += g[k];
        }
      }
    }
    return static_cast<napi_value>(nullptr);
  });
}

// The ISA oneDNN's direct convolution runs on, e.g. 'avx512_core' (from its implementation name).
std::string convIsa() {
  memory::desc x({1, 64, 16, 16}, dt::f32, tag::nhwc), w({64, 64, 3, 3}, dt::f32, tag::any);
  dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, x, w, x, {1, 1}, {1, 1}, {1, 1}),
      cpu());
  std::string impl = pd.impl_info_str();
  auto colon = impl.find(':');
  return colon == std::string::npos ? impl : impl.substr(colon + 1);
}

bool hasWinograd() {
  memory::desc x({1, 64, 32, 32}, dt::f32, tag::nChw16c), w({64, 64, 3, 3}, dt::f32, tag::any);
  try {
    dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_winograd, x, w, x, {1, 1}, {1, 1}, {1, 1}),
        cpu());
    return true;
  } catch (const dnnl::error&) {
    return false;
  }
}

// info() -> { version, isa, winograd, threads }
napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, [&] {
    const dnnl_version_t* ver = dnnl_version();
    napi_value out, winograd;
    napi_create_object(env, &out);
    napi_set_named_property(env, out, "version", str(env, std::to_string(ver->major) + "." + std::to_string(ver->minor) + "." + std::to_string(ver->patch)));
    napi_set_named_property(env, out, "isa", str(env, convIsa()));
    napi_get_boolean(env, hasWinograd(), &winograd);
    napi_set_named_property(env, out, "winograd", winograd);
    napi_set_named_property(env, out, "threads", num(env, omp_get_max_threads()));
    return out;
  });
}

// setThreads(n): the OpenMP team size oneDNN runs on from now on.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto a = args(env, info, 1);
    int32_t n;
    check(env, napi_get_value_int32(env, a[0], &n), "threads");
    if (n < 1) throw JsError{"nst_native: threads must be at least 1"};
    omp_set_num_threads(n);
    return static_cast<napi_value>(nullptr);
  });
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convPlan", nullptr, ConvPlanNew, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convRun", nullptr, ConvRun, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convInfo", nullptr, ConvInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convRelease", nullptr, ConvRelease, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reverse", nullptr, Reverse, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
