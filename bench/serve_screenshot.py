"""docs/serve.png, the picture of bin/serve's page, made from the committed run so that it cannot drift from it.

Starts bin/serve on this project's models/, metrics/ and test images, opens the page in Debian's headless Chromium
through Selenium, clicks three of its test images (the last goes to the lab), moves the lab's shift control
SHIFT_RIGHT pixels to the right with the keyboard, waits for both models' answers and maps, and writes the whole page
to docs/serve.png (atomically), beyond the window's height.

Run from the project root after the pipeline (or `dvc pull`), with Debian's chromium and chromium-driver:
    .venv/bin/python bench/serve_screenshot.py
"""
import base64
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from fmnist.atomic import atomic_path
from serve_load import Server  # bench/serve_load.py, beside this file

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "serve.png"
WIDTH, FIRST_HEIGHT = 1280, 1000
EXAMPLES = (9, 5, 2)  # the page's test images clicked, in turn: an ANN mistake, a sandal, a pullover (in the lab)
SHIFT_RIGHT = 3       # pixels, within the robustness stage's measured shifts so the marker sits on the curve
WAIT_S = 120


def chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--hide-scrollbars",
                     f"--window-size={WIDTH},{FIRST_HEIGHT}"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def show_the_lab(browser, url):
    """The page with EXAMPLES classified and the last one in the lab, shifted SHIFT_RIGHT pixels right."""
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(url)
    wait.until(lambda driver: "Test accuracy" in driver.find_element(By.ID, "glance").text)
    buttons = wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#examples button"))
    for count, index in enumerate(EXAMPLES, 1):
        buttons[index].click()
        wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#results article")) == count)
    wait.until(lambda driver: driver.find_element(By.ID, "lab-result").get_attribute("data-state") == "done")
    browser.find_element(By.ID, "lab-shift-cols").send_keys(Keys.ARROW_RIGHT * SHIFT_RIGHT)
    wait.until(lambda driver: driver.find_element(By.ID, "lab-result").get_attribute("data-query") ==
               f"shift=0,{SHIFT_RIGHT}&rotate=0&noise=0&scramble=false"
               and driver.find_element(By.ID, "lab-result").get_attribute("data-state") == "done")
    wait.until(lambda driver: all(canvas.get_attribute("data-drawn") == "true"
                                  for canvas in driver.find_elements(By.CSS_SELECTOR, "canvas")))


def main():
    with tempfile.TemporaryDirectory(prefix="serve-screenshot-") as temp:
        server = Server(Path(temp) / "serve.log")
        browser = None
        try:
            server.wait_ready()
            browser = chromium()
            show_the_lab(browser, server.url + "/")
            page = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            with atomic_path(SCREENSHOT) as temp_png:
                temp_png.write_bytes(base64.b64decode(page["data"]))
        finally:
            if browser:
                browser.quit()
            server.stop()
    print(f"wrote {SCREENSHOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
