// Copy buttons: a button with data-copy="ID" copies the value of the input
// with that id, and says so in the status next to it. Without a clipboard
// (an insecure origin), the value is selected for the user to copy.
document.querySelectorAll('button[data-copy]').forEach((b) => {
  b.addEventListener('click', async () => {
    const field = document.getElementById(b.dataset.copy);
    const status = b.parentElement.querySelector('.copied');
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = 'Copied.';
    } catch {
      if (status) status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.';
    }
  });
});
