// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Bring the first error into view and focus so screen-reader and keyboard users land on it.
  const invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
  watchVerification();
  enableScanner();
});

// While verification is pending, ask the API every few seconds and reload once it changes.
function watchVerification() {
  const line = document.querySelector("[data-verification-status]");
  if (!line || line.dataset.verificationStatus !== "pending") return;
  const known = JSON.stringify(departmentStates());
  const poll = async () => {
    try {
      const response = await fetch("/api/v1/me/verification", { credentials: "same-origin" });
      if (response.ok) {
        const body = await response.json();
        const states = Object.fromEntries(
          Object.entries(body.departments).map(([key, d]) => [key, d.status]));
        if (body.status !== "pending" || JSON.stringify(states) !== known) {
          window.location.reload();
          return;
        }
      }
    } catch (error) { /* offline for a moment: try again */ }
    setTimeout(poll, 3000);
  };
  setTimeout(poll, 2000);
}

function departmentStates() {
  const states = {};
  document.querySelectorAll("[data-department]").forEach((item) => {
    const match = item.className.match(/dept-(\w+)/);
    states[item.dataset.department] = match ? match[1] : "";
  });
  return states;
}

// Check-in: where the browser can read QR codes (BarcodeDetector), offer the camera; the typed
// code field always works.
function enableScanner() {
  const box = document.querySelector("[data-scanner]");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  box.hidden = false;
  box.querySelector("[data-scanner-start]").addEventListener("click", async () => {
    const video = box.querySelector("[data-scanner-video]");
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    } catch (error) {
      box.hidden = true; // no camera or no permission: the typed code remains
      return;
    }
    video.srcObject = stream;
    await video.play();
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const look = async () => {
      const found = await detector.detect(video).catch(() => []);
      if (found.length) {
        stream.getTracks().forEach((track) => track.stop());
        const form = box.closest("form");
        form.querySelector("#code").value = found[0].rawValue;
        form.submit();
        return;
      }
      requestAnimationFrame(look);
    };
    look();
  });
}
