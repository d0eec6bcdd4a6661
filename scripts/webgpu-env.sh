# Source it (`. scripts/webgpu-env.sh`) to run `--device webgpu` without a GPU on Linux: points the Vulkan loader at
# SwiftShader, the software Vulkan driver shipped in Debian's chromium package (about 100–1000× slower than a GPU;
# for testing). Needs: apt-get install -y --no-install-recommends chromium libvulkan1. See docs/webgpu.md.
# Dawn reads these variables once, when the process creates its first WebGPU session: source this before starting node.
for videoshop_icd in /usr/lib/chromium/vk_swiftshader_icd.json /usr/lib/chromium-browser/vk_swiftshader_icd.json \
  /snap/chromium/current/usr/lib/chromium-browser/vk_swiftshader_icd.json /opt/google/chrome/vk_swiftshader_icd.json; do
  if [ -f "$videoshop_icd" ]; then
    export VK_DRIVER_FILES="$videoshop_icd" # Vulkan loader >= 1.3.207
    export VK_ICD_FILENAMES="$videoshop_icd" # older loaders
    # Mesa's device-select layer would print "XDG_RUNTIME_DIR is invalid" on a headless machine.
    export NODEVICE_SELECT=1
    break
  fi
done
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  echo "webgpu-env: SwiftShader's vk_swiftshader_icd.json was not found; install it with" \
    "apt-get install -y --no-install-recommends chromium libvulkan1" >&2
fi
unset videoshop_icd
