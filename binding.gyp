{
  "targets": [
    {
      "target_name": "ktimers",
      "sources": [
        "native/binding.cc",
        "native/addon.cc",
        "native/hrtimer_napi.cc",
        "native/loop_watch.cc",
        "native/errors.cc",
        "native/args.cc",
        "native/sched.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fvisibility=hidden", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none" }],
        # armv7: a 64-bit time_t (glibc >= 2.34 maps timerfd_settime & co to their
        # *64 versions), else a CLOCK_REALTIME deadline past 2038 fails with EINVAL.
        # An older glibc's headers ignore these and build with a 32-bit time_t.
        ["target_arch=='arm'", {
          "defines": ["_FILE_OFFSET_BITS=64", "_TIME_BITS=64"],
          "cflags_cc": ["-Wno-psabi"]
        }]
      ]
    }
  ]
}
