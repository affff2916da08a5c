// Fixture slowlogger (control, never hangs): TestSlowProgress logs a line
// every 0.5 s for about 6 s and passes; TestQuietSleep prints nothing for 1 s
// and passes. With a 3 s stall threshold nothing may be reported.
package progress

import "time"

// Step simulates one unit of slow work.
func Step() { time.Sleep(500 * time.Millisecond) }
