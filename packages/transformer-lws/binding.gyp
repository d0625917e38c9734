{
  "variables": {
    "sanitize%": ""
  },
  "targets": [
    {
      "target_name": "primus_lws",
      "sources": ["native/binding.c"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags libwebsockets)"],
      "libraries": ["<!@(pkg-config --libs libwebsockets)"],
      "conditions": [
        ["sanitize=='address'", {
          "cflags_c": ["-fsanitize=address", "-fno-omit-frame-pointer", "-g", "-O1"],
          "ldflags": ["-fsanitize=address"]
        }]
      ]
    }
  ]
}
