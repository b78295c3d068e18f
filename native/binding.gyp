{
  "targets": [
    {
      "target_name": "nst_native",
      "sources": ["src/addon.cc"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
