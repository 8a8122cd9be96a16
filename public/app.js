// Shows the live /health report on the landing page.
const target = document.getElementById("health");
try {
  const res = await fetch("/health");
  target.textContent = `${res.status} ${JSON.stringify(await res.json(), null, 2)}`;
} catch (error) {
  target.textContent = `health unavailable: ${error}`;
}
