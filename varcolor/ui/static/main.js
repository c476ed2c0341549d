// varcolor studio page: draws strokes and points, sends each finished edit to the server and
// shows the newest result. All colorization happens on the server (varcolor.Colorizer).
// The modules' listeners are installed here, once every module is loaded.
import { api, showMessage } from "./api.js?token={{TOKEN}}";
import { applyState, installFlood, openState } from "./results.js?token={{TOKEN}}";
import { installHistory } from "./history.js?token={{TOKEN}}";
import { installView } from "./view.js?token={{TOKEN}}";
import { installPaint } from "./paint.js?token={{TOKEN}}";
import { installPicker, loadRecent, showColour } from "./picker.js?token={{TOKEN}}";
import { installControls, setTool } from "./controls.js?token={{TOKEN}}";
import { installOpen } from "./open.js?token={{TOKEN}}";
import { installSave } from "./save.js?token={{TOKEN}}";
import { installReference } from "./reference.js?token={{TOKEN}}";

installView();
installPaint();
installPicker();
installControls();
installHistory();
installOpen();
installSave();
installReference();
installFlood();
(async () => {
  showColour();
  loadRecent();
  setTool("brush");
  const { response, body } = await api("/api/state");
  if (!response.ok) { showMessage(body ? body.error : "the server refused this page"); return; }
  applyState(body);
  if (body.image) await openState(body);
  window.studioReady = true;
})();
