//! Size-or-interval batching, shared by both writers so that `*_BATCH_SIZE` and
//! `*_BATCH_FLUSH_INTERVAL` mean the same for each: a batch holds at most `size` items.

use std::collections::VecDeque;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::settings::BatchSettings;

/// Cuts the chunks arriving on a channel into batches of at most `size` items, carrying what a
/// chunk holds beyond a batch over to the next one.
pub struct Batcher<T> {
    input: mpsc::Receiver<Vec<T>>,
    /// A deque, so that handing out the front of a large chunk does not move the rest.
    carried: VecDeque<T>,
    settings: BatchSettings,
}

impl<T> Batcher<T> {
    pub fn new(input: mpsc::Receiver<Vec<T>>, settings: BatchSettings) -> Self {
        Batcher {
            input,
            carried: VecDeque::new(),
            settings,
        }
    }

    /// The next batch: `size` items (at least 1) once that many are held, or fewer when
    /// `flush_interval` has passed since this call began holding any, or the input closed. `None`
    /// once the input is closed and everything was handed out.
    pub async fn next(&mut self) -> Option<Vec<T>> {
        let size = self.settings.size.max(1);
        let mut deadline = (!self.carried.is_empty()).then(|| self.deadline());
        let mut closed = false;
        while self.carried.len() < size {
            let received = match deadline {
                None => self.input.recv().await,
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, self.input.recv()).await {
                        Ok(received) => received,
                        Err(_) => break,
                    }
                }
            };
            match received {
                Some(chunk) => {
                    self.carried.extend(chunk);
                    if deadline.is_none() && !self.carried.is_empty() {
                        deadline = Some(self.deadline());
                    }
                }
                None => {
                    closed = true;
                    break;
                }
            }
        }
        if self.carried.is_empty() && closed {
            return None;
        }
        let take = size.min(self.carried.len());
        Some(self.carried.drain(..take).collect())
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.settings.flush_interval
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings(size: usize, seconds: u64) -> BatchSettings {
        BatchSettings {
            size,
            flush_interval: Duration::from_secs(seconds),
        }
    }

    #[tokio::test]
    async fn batches_hold_at_most_size_items_and_carry_the_rest() {
        let (sender, receiver) = mpsc::channel(8);
        for chunk in [vec![1, 2], vec![3, 4, 5, 6, 7], vec![8]] {
            sender.send(chunk).await.unwrap();
        }
        drop(sender);
        let mut batcher = Batcher::new(receiver, settings(3, 60));
        let mut batches = Vec::new();
        while let Some(batch) = batcher.next().await {
            batches.push(batch);
        }
        assert_eq!(batches, [vec![1, 2, 3], vec![4, 5, 6], vec![7, 8]]);
    }

    #[tokio::test]
    async fn empty_chunks_make_no_batches() {
        let (sender, receiver) = mpsc::channel(8);
        sender.send(Vec::<u8>::new()).await.unwrap();
        drop(sender);
        let mut batcher = Batcher::new(receiver, settings(3, 60));
        assert_eq!(batcher.next().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn flushes_a_partial_batch_after_the_interval() {
        let (sender, receiver) = mpsc::channel(8);
        sender.send(vec![1]).await.unwrap();
        let mut batcher = Batcher::new(receiver, settings(100, 2));
        let started = Instant::now();
        assert_eq!(batcher.next().await, Some(vec![1]));
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "waited exactly the flush interval"
        );
        drop(sender);
    }
}
